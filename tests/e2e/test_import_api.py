"""Collection-file imports over HTTP, on SQLite and PostgreSQL: upload (multipart), roles, a
faulty file as problem+json, the same file again, the report as JSON, CSV and XLSX, the rejects
file, and the same report after the read models are rebuilt."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routers import imports
from infra.bootstrap import Container
from infra.reconciliation_report import ITEM_HEADERS
from infra.settings import Settings
from tests.e2e.test_api import auth, ok, problem
from tests.helpers import make_id_number, seed_region
from tests.integration.test_collection_import import month_rows, write_file

UPLOAD = "/v1/imports/collections"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def container_of(client: TestClient) -> Container:
    container: Container = client.app.state.container  # type: ignore[attr-defined]
    return container


def collection_file(client: TestClient, tmp_path: Path, name: str = "sw202302.csv",
                    rejected: int = 1) -> bytes:
    """Two posted months (10 lines), one unknown person's month in suspense (5 lines), and
    `rejected` lines with an impossible period."""
    container = container_of(client)
    region = seed_region(container, persons=2)
    code = region.employer_code
    rows = (month_rows(container, region.id_numbers[0], code, "2023-01", "P1")
            + month_rows(container, region.id_numbers[1], code, "2023-01", "P2")
            + month_rows(container, make_id_number(900), code, "2023-01", "H1"))
    rows += [{**rows[0], "serial_no": f"R{n}", "period": "2023-13"} for n in range(rejected)]
    return write_file(tmp_path / name, rows).read_bytes()


def upload(client: TestClient, headers: dict[str, str], content: bytes,
           name: str = "sw202302.csv", **form: str) -> Any:
    return client.post(UPLOAD, headers=headers, files={"file": (name, content, "text/csv")},
                       data=form)


def test_a_reconciler_uploads_a_file_and_reads_its_report(client: TestClient, tmp_path: Path
                                                          ) -> None:
    reconciler = auth(client, "reconciler1", "reconciler")
    auditor = auth(client, "auditor1", "auditor")
    content = collection_file(client, tmp_path)

    done = ok(upload(client, reconciler, content, encoding="utf-8"), 201)
    assert done["already_imported"] is False
    assert done["file_name"] == "sw202302.csv"
    assert done["counts"] == {"posted": 10, "duplicate": 0, "suspense": 5, "rejected": 1}
    batch_id = done["batch_id"]

    listed = ok(client.get("/v1/imports", headers=auditor,
                           params={"min_position": done["position"]}))
    assert [b["batch_id"] for b in listed["items"]] == [batch_id]
    assert listed["items"][0]["started_by"] == "api:reconciler1"
    assert listed["items"][0]["summary"]["counts"] == done["counts"]

    report = ok(client.get(f"/v1/imports/{batch_id}", headers=auditor,
                           params={"min_position": done["position"], "limit": 10}))
    assert report["differences"] == []
    assert report["items_total"] == 15 and len(report["items"]) == 10
    assert report["next_offset"] == 10
    rest = ok(client.get(f"/v1/imports/{done['sha256']}", headers=auditor,
                         params={"offset": 10, "limit": 10}))
    assert rest["next_offset"] is None
    items = report["items"] + rest["items"]
    assert len({i["serial_no"] for i in items}) == 15
    assert all(i["month_id"] for i in items if i["outcome"] == "posted")
    assert all(i["suspense_id"] and "*" in i["id_number"]
               for i in items if i["outcome"] == "suspense")
    assert sum(e["amounts_fen"]["posted"] for e in report["by_employer"]) == (
        done["amounts_fen"]["posted"])

    again = ok(upload(client, reconciler, content, name="renamed.csv"), 200)
    assert again["already_imported"] is True
    assert again["counts"] == done["counts"] and again["batch_id"] == batch_id


def test_report_files_and_rejects_download(client: TestClient, tmp_path: Path) -> None:
    reconciler = auth(client, "reconciler1", "reconciler")
    done = ok(upload(client, reconciler, collection_file(client, tmp_path, rejected=2)), 201)
    batch_id, at = done["batch_id"], {"min_position": done["position"]}

    got = client.get(f"/v1/imports/{batch_id}/report.csv", headers=reconciler, params=at)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    assert ".csv" in got.headers["content-disposition"]
    assert got.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0] == list(ITEM_HEADERS.values()) and len(rows) == 16

    got = client.get(f"/v1/imports/{batch_id}/report.xlsx", headers=reconciler, params=at)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(got.content), read_only=True)
    assert book.sheetnames == ["汇总", "明细"]
    assert len(list(book["明细"].iter_rows(values_only=True))) == 16
    book.close()

    got = client.get(f"/v1/imports/{batch_id}/rejects.csv", headers=reconciler, params=at)
    assert got.status_code == 200, got.text
    rejects = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert len(rejects) == 3 and "错误代码" in rejects[0]


def test_a_file_without_rejected_lines_has_no_rejects_file(client: TestClient, tmp_path: Path
                                                           ) -> None:
    reconciler = auth(client, "reconciler1", "reconciler")
    done = ok(upload(client, reconciler, collection_file(client, tmp_path, rejected=0)), 201)
    problem(client.get(f"/v1/imports/{done['batch_id']}/rejects.csv", headers=reconciler,
                       params={"min_position": done["position"]}),
            404, "rejects_not_found", "batch_id")


def test_roles_are_checked(client: TestClient, tmp_path: Path) -> None:
    teller = auth(client, "teller1", "teller")
    content = collection_file(client, tmp_path)
    problem(upload(client, teller, content), 403, "role_forbidden")
    problem(client.get("/v1/imports", headers=teller), 403, "role_forbidden")
    director = auth(client, "director1", "director")
    problem(upload(client, director, content), 403, "role_forbidden")
    assert ok(client.get("/v1/imports", headers=director))["items"] == []
    admin = auth(client, "admin1", "admin")
    ok(upload(client, admin, content), 201)


def test_a_file_with_a_missing_column_is_a_problem_and_records_nothing(
        client: TestClient, tmp_path: Path) -> None:
    reconciler = auth(client, "reconciler1", "reconciler")
    lines = collection_file(client, tmp_path).decode("utf-8").splitlines()
    without_batch_column = "\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n"
    head = container_of(client).store.max_position()
    body = problem(upload(client, reconciler, without_batch_column.encode()), 422,
                   "columns_missing")
    assert "税务批次号" in body["detail"]
    assert container_of(client).store.max_position() == head
    assert ok(client.get("/v1/imports", headers=reconciler))["items"] == []


def test_an_unknown_batch_is_404_and_an_oversized_upload_413(
        client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reconciler = auth(client, "reconciler1", "reconciler")
    problem(client.get("/v1/imports/" + "0" * 64, headers=reconciler), 404, "import_not_found",
            "batch_id")
    monkeypatch.setattr(imports, "UPLOAD_BYTES_MAX", 100)
    problem(upload(client, reconciler, collection_file(client, tmp_path)), 413,
            "upload_too_large", "file")
    assert list((container_of(client).settings.region_dir / "imports").iterdir()) == []


def test_a_rebuild_of_the_read_models_gives_the_same_report(client: TestClient, tmp_path: Path
                                                            ) -> None:
    reconciler = auth(client, "reconciler1", "reconciler")
    done = ok(upload(client, reconciler, collection_file(client, tmp_path)), 201)
    url, at = f"/v1/imports/{done['batch_id']}", {"min_position": done["position"]}
    before = ok(client.get(url, headers=reconciler, params=at))
    csv_before = client.get(url + "/report.csv", headers=reconciler).content
    container_of(client).runner.rebuild()
    after = ok(client.get(url, headers=reconciler, params=at))
    assert {**after, "position": 0} == {**before, "position": 0}
    assert client.get(url + "/report.csv", headers=reconciler).content == csv_before
