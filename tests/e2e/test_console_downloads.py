"""Downloads in the web console, on SQLite and PostgreSQL: an import's reconciliation report
(CSV, XLSX), the finance special-account reconciliation (CSV, XLSX) and a case's materials —
linked from their pages, the same files as the API's, to the same roles, and a read of a
person's material recorded with the session's reason."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infra.case_service import Actor, CaseService
from infra.settings import Settings
from tests.e2e.test_api import auth
from tests.e2e.test_console import (
    PNG,
    _level_1_case,
    access_entries,
    container_of,
    csrf_of,
    seeded,
    signed_in,
)
from tests.e2e.test_import_api import collection_file
from tests.helpers import make_id_number

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def links_of(page: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', page)]


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel opens it as Chinese
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_an_imports_report_downloads_as_csv_and_xlsx_like_the_apis(client: TestClient,
                                                                  tmp_path: Path) -> None:
    api_reader = auth(client, "reconciler1", "reconciler")
    uploaded = client.post("/v1/imports/collections", headers=api_reader, files={
        "file": ("sw202302.csv", collection_file(client, tmp_path), "text/csv")})
    assert uploaded.status_code == 201, uploaded.text
    container_of(client).runner.catch_up()
    batch_id = uploaded.json()["batch_id"]
    browser = signed_in(client, "reconciler2", "reconciler")
    page = browser.get(f"/console/reconciliation/imports/{batch_id}").text
    path = f"/console/reconciliation/imports/{batch_id}/report"
    assert {f"{path}.csv", f"{path}.xlsx"} <= set(links_of(page))

    as_csv = browser.get(f"{path}.csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"] == CSV_TYPE
    assert as_csv.headers["content-disposition"].startswith("attachment")
    from_api = client.get(f"/v1/imports/{batch_id}/report.csv", headers=api_reader)
    assert as_csv.content == from_api.content
    header, *rows = csv_rows(as_csv.content)
    items_total = client.get(f"/v1/imports/{batch_id}",
                             headers=api_reader).json()["items_total"]
    assert "税务流水号" in header and len(rows) == items_total > 0
    id_numbers = [row[header.index("公民身份号码(脱敏)")] for row in rows]
    assert any(id_numbers) and all("********" in n for n in id_numbers if n)

    as_xlsx = browser.get(f"{path}.xlsx")
    assert as_xlsx.status_code == 200 and as_xlsx.headers["content-type"] == XLSX_TYPE
    workbook = openpyxl.load_workbook(io.BytesIO(as_xlsx.content), read_only=True)
    assert workbook.sheetnames[:2] == ["汇总", "明细"]
    assert len(list(workbook["明细"].iter_rows())) == items_total + 1  # header, a row a line

    assert browser.get(f"{path}.pdf").status_code == 422  # only the two formats
    teller = signed_in(client, "teller1", "teller")
    assert teller.get(f"{path}.csv").status_code == 403  # as the API: not an import reader
    unknown = browser.get("/console/reconciliation/imports/no-such-batch/report.csv")
    assert unknown.status_code == 404 and "未找到该导入批次" in unknown.text


def test_the_finance_reconciliation_downloads_as_csv_and_xlsx_like_the_apis(
        client: TestClient) -> None:
    seeded(client)
    auditor = signed_in(client, "auditor1", "auditor")
    assert {"/console/reconciliation/finance.csv", "/console/reconciliation/finance.xlsx"} <= set(
        links_of(auditor.get("/console/reconciliation").text))

    as_csv = auditor.get("/console/reconciliation/finance.csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"] == CSV_TYPE
    api_reader = auth(client, "auditor2", "auditor")
    from_api = client.get("/v1/finance/reconciliation.csv", headers=api_reader)
    assert as_csv.content == from_api.content
    header, *rows, totals = csv_rows(as_csv.content)
    report = client.get("/v1/finance/reconciliation", headers=api_reader).json()
    assert header[:2] == ["期间", "险种代码"] and totals[0] == "合计"
    assert len(rows) == len(report["rows"]) > 0  # the seeded months' fund movements
    assert int(totals[header.index("账上收入(分)")]) == report["totals"]["ledger_receipts_fen"] > 0

    as_xlsx = auditor.get("/console/reconciliation/finance.xlsx")
    assert as_xlsx.status_code == 200 and as_xlsx.headers["content-type"] == XLSX_TYPE
    assert as_xlsx.content[:2] == b"PK"
    assert openpyxl.load_workbook(io.BytesIO(as_xlsx.content), read_only=True).sheetnames[:2] \
        == ["汇总", "明细"]

    reviewer = signed_in(client, "reviewer1", "reviewer")  # reads imports, not finance
    assert reviewer.get("/console/reconciliation/finance.csv").status_code == 403


def test_a_cases_material_downloads_hash_checked(client: TestClient) -> None:
    case_id = _level_1_case(client)
    reviewer = signed_in(client, "reviewer1", "reviewer")
    page = reviewer.get(f"/console/cases/{case_id}").text
    materials = [link for link in links_of(page) if "/materials/" in link]
    assert len(materials) == 2  # business licence and the legal representative's ID

    material = reviewer.get(materials[0])
    assert material.status_code == 200 and material.content == PNG
    assert material.headers["content-type"] == "image/png"
    sha256 = materials[0].rsplit("/", 1)[1]
    assert material.headers["x-content-sha256"] == sha256
    assert re.fullmatch(r'attachment; filename="[a-z_]+-[0-9a-f]{12}\.png"',
                        material.headers["content-disposition"])

    unknown = reviewer.get(f"/console/cases/{case_id}/materials/{'0' * 64}")
    assert unknown.status_code == 404 and "material_not_found" in unknown.text
    stored = CaseService(container_of(client)).blobs.path(sha256)
    assert stored.is_file()
    stored.write_bytes(PNG + b"changed")
    corrupted = reviewer.get(materials[0])
    assert corrupted.status_code == 500 and "material_corrupted" in corrupted.text
    assert PNG not in corrupted.content  # a changed file is never served
    assert signed_in(client, "reconciler1", "reconciler").get(materials[1]).status_code == 403


def test_a_persons_material_needs_the_reason_and_its_read_is_recorded(client: TestClient
                                                                      ) -> None:
    container = container_of(client)
    service = CaseService(container)
    service.change_authorisation("teller1", ["person_registration"], [], "admin1", "演示授权")
    teller = Actor("teller1", ["teller"])
    case_id = str(service.open("person_registration", {"person_registration": {
        "id_number": make_id_number(41), "name": "李四", "registered_on": "2025-03-03"}},
        teller, "李四").result["case_id"])
    service.attach(case_id, "resident_id", io.BytesIO(PNG), "身份证.png", teller)
    container.runner.catch_up()
    auditor = signed_in(client, "auditor1", "auditor")
    page = _case_page_after_reason(auditor, case_id)
    material = next(link for link in links_of(page) if "/materials/" in link)
    assert access_entries(client, username="auditor1")  # the case page was a read too
    downloaded = auditor.get(material)
    assert downloaded.status_code == 200 and downloaded.content == PNG
    reads = [e for e in access_entries(client, username="auditor1")
             if e["resource"] == "GET /console/cases/{case_id}/materials/{sha256}"]
    assert len(reads) == 1 and reads[0]["reason_code"] == "audit"

    fresh = signed_in(client, "auditor2", "auditor")  # no reason chosen in this session
    gate = fresh.get(material)
    assert gate.status_code == 200 and "请选择查询事由" in gate.text and PNG not in gate.content


def _case_page_after_reason(browser: TestClient, case_id: str) -> str:
    gate = browser.get(f"/console/cases/{case_id}")
    assert "请选择查询事由" in gate.text
    chosen = browser.post("/console/reason", data={
        "csrf_token": csrf_of(gate.text), "reason": "audit",
        "next": f"/console/cases/{case_id}"})
    assert chosen.status_code == 200
    return chosen.text
