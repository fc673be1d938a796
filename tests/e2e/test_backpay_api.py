"""Back-payments over HTTP, on SQLite and PostgreSQL: a reviewer assesses, a reconciler records
the collection, the months appear in the person's history, roles are enforced, and refusals
are problems with their codes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infra.settings import Settings
from tests.e2e.test_api import auth, ok, problem
from tests.e2e.test_import_api import container_of
from tests.helpers import seed_region


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def test_assess_collect_and_read(client: TestClient) -> None:
    region = seed_region(container_of(client), persons=1, year=2023)
    reviewer = auth(client, "reviewer1", "reviewer")
    reconciler = auth(client, "reconciler1", "reconciler")
    body = {"id_number": region.id_numbers[0], "employer_code": region.employer_code,
            "from_period": "2023-01", "to_period": "2023-02", "pay_by": "2023-04-01",
            "reason": "payroll records 2023-01..02"}

    problem(client.post("/v1/backpayments", headers=reconciler, json=body), 403,
            "role_forbidden")
    problem(client.post("/v1/backpayments", headers=reviewer,
                        json={**body, "to_period": "2022-12"}), 422, "backpay_no_months",
            "from_period")
    assessed = ok(client.post("/v1/backpayments", headers=reviewer, json=body), 201)["result"]
    assert assessed["status"] == "assessed" and assessed["periods"] == ["2023-01", "2023-02"]
    january = assessed["months"][0]
    assert (january["due_date"], january["days_late"]) == ("2023-02-15", 45)
    assert assessed["interest_fen"] == 0  # no year credited yet: interest comes at year-end
    total = assessed["total_fen"]
    assert total == assessed["principal_fen"] + assessed["late_fee_fen"]

    url = f"/v1/backpayments/{assessed['backpay_id']}"
    problem(client.post(url + "/collection", headers=reconciler, json={
        "collected_on": "2023-03-20", "tax_serial": "BP-1", "amount_fen": total + 1}), 409,
        "backpay_amount_differs", "amount_fen")
    done = ok(client.post(url + "/collection", headers=reconciler, json={
        "collected_on": "2023-03-20", "tax_serial": "BP-1", "amount_fen": total}), 201)
    assert done["result"]["status"] == "collected"
    assert ok(client.get(url, headers=reviewer))["status"] == "collected"
    history = ok(client.get(f"/v1/persons/{region.id_numbers[0]}/contributions",
                            headers=reviewer, params={"min_position": done["position"]}))
    assert sorted(h["period"] for h in history["items"]) == ["2023-01", "2023-02"]
    problem(client.post(url + "/cancellation", headers=reviewer, json={"reason": "x"}), 409,
            "backpay_collected", "backpay_id")
    problem(client.get("/v1/backpayments/00000000-0000-0000-0000-000000000000",
                       headers=reviewer), 404, "backpay_not_found", "backpay_id")
