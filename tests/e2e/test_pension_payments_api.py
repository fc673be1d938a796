"""Pension payment runs over HTTP, on SQLite and PostgreSQL: an admin runs a month (others are
refused), a second run pays nobody, bad months are problems naming the field, and a person's
payments are a read of their record — with a reason, recorded in the access log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infra.settings import Settings
from tests.e2e.test_access_log_api import log_entries, without_reason
from tests.e2e.test_api import auth, ok, problem
from tests.e2e.test_import_api import container_of
from tests.integration.test_pension_payments import award_of, retirees

RUNS = "/v1/pensions/payment-runs"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def test_an_admin_pays_a_month_once_and_a_reader_reads_a_persons_payments(
        client: TestClient) -> None:
    container = container_of(client)
    number, other = retirees(container, 2)
    monthly_fen = award_of(container, number)["monthly_fen"]
    admin = auth(client, "admin1", "admin")
    teller = auth(client, "teller1", "teller")
    auditor = auth(client, "auditor1", "auditor")

    problem(client.post(RUNS, headers=teller, json={"period": "2024-01"}), 403,
            "role_forbidden")
    problem(client.post(RUNS, headers=admin, json={"period": "2024-13"}), 422,
            "period_out_of_range", "period")
    future = f"{date.today().year + 1}-01"
    problem(client.post(RUNS, headers=admin, json={"period": future}), 422,
            "payment_period_in_future", "period")

    container.ledger.record_death(other, "2024-01-31", "死亡医学证明")
    done = ok(client.post(RUNS, headers=admin, json={"period": "2024-01"}))
    result = done["result"]
    assert (result["period"], result["paid"], result["already_paid"]) == ("2024-01", 2, 0)
    assert result["amount_fen"] == 2 * monthly_fen
    february = ok(client.post(RUNS, headers=admin, json={"period": "2024-02"}))["result"]
    assert (february["paid"], february["skipped_deceased"]) == (1, 1)
    again = ok(client.post(RUNS, headers=admin, json={"period": "2024-02"}))
    assert (again["result"]["paid"], again["result"]["already_paid"]) == (0, 1)

    url = f"/v1/persons/{number}/pension-payments"
    problem(client.get(url, headers=without_reason(auditor)), 400, "access_reason_missing",
            "X-Access-Reason")
    page = ok(client.get(url, headers=auditor, params={"min_position": again["position"]}))
    assert [item["period"] for item in page["items"]] == ["2024-01", "2024-02"]
    assert (page["months"], page["total_fen"]) == (2, 2 * monthly_fen)
    assert page["items"][0]["total_fen"] == monthly_fen
    assert page["items"][0]["account_from_personal_fen"] == page["items"][0]["account_fen"]
    entries = log_entries(client, auditor, user="auditor1")
    assert [e["resource"] for e in entries] == ["GET /v1/persons/{id_number}/pension-payments"]

    funds = {a["account"]: a for a in ok(client.get(
        "/v1/funds", headers=auditor, params={"min_position": again["position"]}))["accounts"]}
    assert funds["bank:payout"]["credit_fen"] == 3 * monthly_fen
