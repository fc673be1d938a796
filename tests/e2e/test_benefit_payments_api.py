"""Benefit payments of 210/310/410/510 over HTTP, on SQLite and PostgreSQL: a reconciler
uploads a payment-detail file (201), the same file again is a 200 no-op, a faulty file is a 422
that records nothing, a teller may not upload; a reader sees a person's payments (with a reason,
recorded in the access log); the annual report shows the expenditure as JSON, HTML and XLSX."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from infra.settings import Settings
from tests.e2e.test_access_log_api import log_entries
from tests.e2e.test_api import auth, head, ok, problem
from tests.e2e.test_import_api import container_of
from tests.helpers import make_id_number, seed_region
from tests.integration.test_benefit_payments import write, year_rows

UPLOAD = "/v1/benefits/payment-files"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def test_a_reconciler_uploads_payment_details_and_a_reader_sees_a_persons_payments(
        client: TestClient, tmp_path: Path) -> None:
    c = container_of(client)
    region = seed_region(c, persons=3)
    reconciler = auth(client, "reconciler1", "reconciler")
    teller = auth(client, "teller1", "teller")
    content = write(tmp_path / "b.csv", year_rows(region.id_numbers)).read_bytes()
    files = {"file": ("待遇支付明细2024.csv", content, "text/csv")}

    problem(client.post(UPLOAD, headers=teller, files=files), 403, "role_forbidden")
    bad = write(tmp_path / "bad.csv", [["2024-01-10", "110", "失业保险金",
                                        region.id_numbers[0], "2024-01", "1", "X-1"]])
    before = head(client)
    refused = problem(client.post(UPLOAD, headers=reconciler, files={
        "file": ("bad.csv", bad.read_bytes(), "text/csv")}), 422, "benefit_file_refused",
        "file")
    assert "insurance_not_paid_here" not in refused["detail"]  # the message, not the code
    assert "line 2: insurance: 110 is not" in refused["detail"]
    assert head(client) == before

    done = ok(client.post(UPLOAD, headers=reconciler, files=files), 201)
    assert (done["paid"], done["already_paid"], done["already_imported"]) == (6, 0, False)
    assert done["by_insurance"]["210"] == {"payments": 4, "amount_fen": 567_050}
    again = ok(client.post(UPLOAD, headers=reconciler, files=files), 200)
    assert (again["paid"], again["already_paid"], again["already_imported"]) == (0, 6, True)

    number = region.id_numbers[0]
    path = f"/v1/persons/{number}/benefit-payments"
    without_reason = {"Authorization": teller["Authorization"]}
    problem(client.get(path, headers=without_reason), 400, "access_reason_missing",
            "X-Access-Reason")
    page = ok(client.get(path, headers=teller, params={"min_position": done["position"],
                                                       "limit": 3}))
    assert (page["payments"], page["total_fen"]) == (4, 567_050)
    assert [i["period"] for i in page["items"]] == ["2023-12", "2024-01", "2024-02"]
    assert page["items"][0]["kind_name_zh"] == "失业保险金" and page["next_offset"] == 3
    rest = ok(client.get(path, headers=teller, params={"offset": 3}))
    assert [i["kind"] for i in rest["items"]] == ["unemployment_medical_subsidy"]
    auditor = auth(client, "auditor1", "auditor")
    entries = log_entries(client, auditor, user="teller1")
    assert [e["resource"] for e in entries] == ["GET /v1/persons/{id_number}/benefit-payments"] * 2
    problem(client.get(f"/v1/persons/{make_id_number(900)}/benefit-payments", headers=teller),
            404, "person_not_registered", "id_number")


def upload_year(client: TestClient, tmp_path: Path) -> dict[str, str]:
    """The year's payment details uploaded; a director's headers."""
    c = container_of(client)
    region = seed_region(c, persons=3)
    reconciler = auth(client, "reconciler1", "reconciler")
    content = write(tmp_path / "b.csv", year_rows(region.id_numbers)).read_bytes()
    ok(client.post(UPLOAD, headers=reconciler, files={"file": ("b.csv", content, "text/csv")}),
       201)
    return auth(client, "director1", "director")


def test_the_annual_report_shows_the_imported_expenditure_as_json_and_xlsx(
        client: TestClient, tmp_path: Path) -> None:
    director = upload_year(client, tmp_path)
    report = ok(client.get("/v1/reports/annual/2024", headers=director,
                           params={"min_position": head(client)}))
    funds = {f["insurance"]: f for f in report["funds"]["insurances"]}
    assert (funds["210"]["expenditure_fen"], funds["210"]["benefit_recipients"]) == (567_050, 1)
    assert funds["310"]["expenditure_fen"] is None
    xlsx = client.get("/v1/reports/annual/2024.xlsx", headers=director)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content))["基金收支"]
    spent = {row[0]: row[3] for row in sheet.iter_rows(values_only=True) if row[2] == "合计"}
    assert (spent["210"], spent["410"], spent["310"]) == (5670.5, 3456.78, "无数据")


def test_the_annual_report_page_renders_the_imported_expenditure(
        client: TestClient, tmp_path: Path) -> None:
    director = upload_year(client, tmp_path)
    html = client.get("/v1/reports/annual/2024.html", headers=director,
                      params={"min_position": head(client)})
    assert html.status_code == 200
    assert "支付0.57万元（按支付日期）" in html.text  # 210: 567,050 fen
    assert "享受待遇人数：1人" in html.text  # 210's recipient in section 一
    assert "2024年月度失业基金支出（待遇发放）" in html.text  # its own chart, by paid_on
