"""The yearly pension adjustment run over HTTP, on SQLite and PostgreSQL: an admin runs a year
(others are refused), a second run adjusts nobody, a province without a rule and a bad year
are problems naming the field and change nothing, and the next payment includes the increase."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

import infra.pension_adjustments
from api.app import create_app
from domain.pension_adjustment import AdjustmentRule
from infra.settings import Settings
from tests.e2e.test_api import auth, ok, problem
from tests.e2e.test_import_api import container_of
from tests.integration.test_pension_payments import award_of, retirees

ADJUSTMENTS = "/v1/pensions/adjustments"
RUNS = "/v1/pensions/payment-runs"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def test_an_admin_adjusts_a_year_once_and_the_next_payment_includes_it(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    container = container_of(client)
    [number] = retirees(container, 1)
    monthly_fen = award_of(container, number)["monthly_fen"]
    admin = auth(client, "admin1", "admin")
    teller = auth(client, "teller1", "teller")
    head = container.store.max_position()

    problem(client.post(ADJUSTMENTS, headers=teller, json={"year": 2024}), 403,
            "role_forbidden")
    # The shipped table has Guangxi 2021 only; the test region's province has no rule.
    problem(client.post(ADJUSTMENTS, headers=admin, json={"year": 2024}), 422,
            "adjustment_rule_missing", "year")
    problem(client.post(ADJUSTMENTS, headers=admin, json={"year": 2003}), 422,
            "adjustment_year_out_of_range", "year")
    assert container.store.max_position() == head

    province = container.settings.region_code[:2]
    rule = AdjustmentRule(province, 2024, 4400, 180, Decimal("0.012"), 70, 300, 300, "test")
    monkeypatch.setattr(infra.pension_adjustments, "default_adjustment_rules",
                        lambda: {(province, 2024): rule})
    ok(client.post(RUNS, headers=admin, json={"period": "2024-01"}))
    done = ok(client.post(ADJUSTMENTS, headers=admin, json={"year": 2024}))["result"]
    delta = 4400 + 16 * 180 + round(Decimal(monthly_fen) * Decimal("0.012"))
    assert (done["adjusted"], done["effective_period"], done["monthly_increase_fen"],
            done["average_increase_fen"]) == (1, "2024-01", delta, delta)
    assert (done["arrears_months"], done["arrears_fen"]) == (1, delta)
    again = ok(client.post(ADJUSTMENTS, headers=admin, json={"year": 2024}))["result"]
    assert (again["adjusted"], again["already_adjusted"]) == (0, 1)

    february = ok(client.post(RUNS, headers=admin, json={"period": "2024-02"}))["result"]
    assert (february["amount_fen"], february["adjustment_fen"]) == (monthly_fen + delta, delta)
