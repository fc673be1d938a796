"""GET /v1/arrears: an unposted month after its due date is owed by the employer, with the late
fee; readers of reconciliation may see it, a teller may not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infra.bootstrap import Container
from infra.settings import Settings
from tests.e2e.test_api import auth, ok, problem
from tests.helpers import seed_region


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def test_arrears_per_employer_with_late_fee(client: TestClient) -> None:
    container: Container = client.app.state.container  # type: ignore[attr-defined]
    region = seed_region(container, persons=2)
    container.ledger.post_contribution(region.id_numbers[0], region.employer_code, "2023-05")
    body = ok(client.get("/v1/arrears", params={"period": "2023-05", "as_of": "2023-07-30"},
                         headers=auth(client, "rec", "reconciler")))
    assert body["due"] and body["due_date"] == "2023-06-15"
    [employer] = body["employers"]
    assert employer["employer_code"] == region.employer_code and employer["persons"] == 1
    assert employer["late_fee_fen"] > 0 and body["items_total"] == 1
    problem(client.get("/v1/arrears", params={"period": "2023-05"},
                       headers=auth(client, "tel", "teller")), 403, "role_forbidden")
    problem(client.get("/v1/arrears", params={"period": "2023-13"},
                       headers=auth(client, "rec2", "reconciler")), 422, "period_out_of_range",
            "period")
