"""Certification (待遇资格认证) over HTTP, on SQLite and PostgreSQL: a teller or reviewer
records a certification (others are refused), the same day again records nothing, bad input is
a problem naming the field, the overdue list shows who is suspended, and the payment run
reports the suspended months and pays them back after the certification."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infra.settings import Settings
from tests.e2e.test_api import auth, ok, problem
from tests.e2e.test_import_api import container_of
from tests.helpers import make_id_number
from tests.integration.test_pension_payments import award_of, retirees

RUNS = "/v1/pensions/payment-runs"
OVERDUE = "/v1/pensions/certifications/overdue"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def test_a_certification_resumes_payment_with_back_pay(client: TestClient) -> None:
    container = container_of(client)
    late, in_time = retirees(container, 2)  # retired 2023-12-31: deadline 2024-12-30
    monthly_fen = award_of(container, late)["monthly_fen"]
    admin = auth(client, "admin1", "admin")
    teller = auth(client, "teller1", "teller")
    reviewer = auth(client, "reviewer1", "reviewer")
    auditor = auth(client, "auditor1", "auditor")
    url = f"/v1/persons/{late}/certifications"
    body = {"method": "data_match", "source": "civil_affairs", "certified_on": "2024-11-01"}

    problem(client.post(url, headers=auditor, json=body), 403, "role_forbidden")
    problem(client.post(url, headers=teller, json={**body, "source": "face_recognition"}),
            422, "certification_source_unknown", "source")
    problem(client.post(url, headers=teller, json={**body, "certified_on": "2099-01-01"}),
            422, "certified_on_in_future", "certified_on")
    problem(client.post(f"/v1/persons/{make_id_number(901)}/certifications", headers=teller,
                        json=body), 404, "person_not_registered", "id_number")
    ok(client.post(f"/v1/persons/{in_time}/certifications", headers=reviewer, json=body),
       201)

    january = ok(client.post(RUNS, headers=admin, json={"period": "2025-01"}))["result"]
    assert (january["paid"], january["skipped_suspended"]) == (1, 1)
    listed = ok(client.get(OVERDUE, headers=auditor, params={"as_of": "2025-02-01"}))
    person_id = str(container.ledger.person(late).id)
    assert listed["total"] == 1 and listed["items"] == [{
        "person_id": person_id, "retirement_date": "2023-12-31", "last_certified_on": None,
        "deadline": "2024-12-30", "suspended_from": "2025-01"}]

    late_body = {"method": "self_service", "certified_on": "2025-02-14"}
    done = ok(client.post(url, headers=teller, json=late_body), 201)
    assert done["result"]["source"] == "face_recognition"
    assert not done["result"]["already_recorded"]
    again = ok(client.post(url, headers=teller, json=late_body), 201)
    assert again["result"]["already_recorded"]
    march = ok(client.post(RUNS, headers=admin, json={"period": "2025-03"}))["result"]
    assert (march["paid"], march["back_paid"], march["back_pay_fen"]) == (
        2, 2, 2 * monthly_fen)  # 2025-01 and 02 paid back
    assert ok(client.get(OVERDUE, headers=auditor, params={"as_of": "2025-03-01"}))[
        "total"] == 0
