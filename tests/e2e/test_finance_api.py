"""Finance special-account reconciliation over HTTP, on SQLite and PostgreSQL: a reconciler
uploads a statement, the same file again is a 200 no-op, auditors read the reconciliation as
JSON, CSV and XLSX, and a teller may do neither."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infra.settings import Settings
from tests.e2e.test_api import auth, ok, problem
from tests.integration.test_finance_reconciliation import (
    import_month,
    ledger_day,
    matching_rows,
    write_statement,
)

UPLOAD = "/v1/finance/statements"
REPORT = "/v1/finance/reconciliation"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def test_a_reconciler_uploads_a_statement_and_an_auditor_reads_the_reconciliation(
        client: TestClient, tmp_path: Path) -> None:
    container = client.app.state.container  # type: ignore[attr-defined]
    reconciler = auth(client, "reconciler1", "reconciler")
    auditor = auth(client, "auditor1", "auditor")
    teller = auth(client, "teller1", "teller")
    per = import_month(container, tmp_path)
    day = ledger_day(container)
    rows = matching_rows(day, per)
    rows[0][3] = "0.01"  # the first insurance: the statement has less than the ledger
    content = write_statement(tmp_path / "cz.csv", rows, encoding="gbk").read_bytes()

    files = {"file": ("财政专户202301.csv", content, "text/csv")}
    problem(client.post(UPLOAD, headers=teller, files=files), 403, "role_forbidden")
    done = ok(client.post(UPLOAD, headers=reconciler, files=files), 201)
    assert (done["imported"], done["rejected"], done["already_imported"]) == (5, 0, False)
    again = ok(client.post(UPLOAD, headers=reconciler, files=files), 200)
    assert again["already_imported"] and again["statement_id"] == done["statement_id"]

    listed = ok(client.get("/v1/finance/statements", headers=auditor,
                           params={"min_position": done["position"]}))
    assert [s["statement_id"] for s in listed["items"]] == [done["statement_id"]]
    assert listed["items"][0]["imported_by"] == "api:reconciler1"

    problem(client.get(REPORT, headers=teller), 403, "role_forbidden")
    report = ok(client.get(REPORT, headers=auditor, params={
        "min_position": done["position"], "from": day[:7], "to": day[:7]}))
    assert report["status"] == "difference" and report["differences"] == 1
    assert report["from"] == day[:8] + "01"
    first = report["rows"][0]
    assert first["insurance"] == rows[0][1]
    assert first["receipts_difference_fen"] == 1 - per[rows[0][1]]
    daily = ok(client.get(REPORT, headers=auditor, params={"granularity": "day"}))
    assert {r["period"] for r in daily["rows"]} == {day}
    problem(client.get(REPORT, headers=auditor, params={"from": "2023-13"}), 422,
            "period_malformed", "from")

    csv_file = client.get(REPORT + ".csv", headers=auditor)
    assert csv_file.status_code == 200
    lines = list(csv.reader(io.StringIO(csv_file.content.decode("utf-8-sig"))))
    assert lines[0][0] == "期间" and len(lines) == 7
    xlsx_file = client.get(REPORT + ".xlsx", headers=auditor)
    assert xlsx_file.status_code == 200 and xlsx_file.content.startswith(b"PK")

    # three-way: January's assessment against its collection and February's receipts
    problem(client.get("/v1/finance/three-way", headers=teller, params={"period": "2023-01"}),
            403, "role_forbidden")
    three = ok(client.get("/v1/finance/three-way", headers=auditor,
                          params={"period": "2023-01", "received_month": day[:7]}))
    assert three["received_month"] == day[:7]
    assert three["totals"]["collected_fen"] == sum(per.values())
    assert three["totals"]["received_fen"] == sum(per.values()) - per[rows[0][1]] + 1
    problem(client.get("/v1/finance/three-way", headers=auditor, params={"period": "2023-1"}),
            422, "period_malformed", "period")


def test_a_statement_without_its_columns_is_a_problem(client: TestClient, tmp_path: Path
                                                      ) -> None:
    reconciler = auth(client, "reconciler1", "reconciler")
    content = b"date,amount\n2023-01-15,1.00\n"
    body = problem(client.post(UPLOAD, headers=reconciler,
                               files={"file": ("x.csv", content, "text/csv")}),
                   422, "columns_missing")
    assert "记账日期" in body["detail"]
