"""Risk alerts over HTTP, on SQLite and PostgreSQL: a teller records a death, a month posted
after it raises an alert (as does the month posted before it, when the death is recorded), an
auditor lists, reads, acknowledges and closes them; roles are enforced and wrong decisions are
problems with their codes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infra.settings import Settings
from tests.e2e.test_api import YEAR, auth, credit_code, id_number, ok, problem, register


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def test_a_posting_after_death_is_listed_read_acknowledged_and_closed(
        client: TestClient) -> None:
    teller = auth(client, "teller1", "teller")
    auditor = auth(client, "auditor1", "auditor")
    director = auth(client, "director1", "director")
    person, employer = id_number(), credit_code()
    register(client, teller, person, employer)
    for month in ("01", "02", "03"):
        ok(client.post("/v1/contributions", headers=teller, json={
            "id_number": person, "employer_code": employer, "period": f"{YEAR}-{month}"}), 201)

    death_url = f"/v1/persons/{person}/death"
    body = {"date_of_death": f"{YEAR}-02-10", "evidence": "死亡医学证明"}
    problem(client.post(death_url, headers=auditor, json=body), 403, "role_forbidden")
    problem(client.post(death_url, headers=teller, json={**body, "evidence": " "}), 422,
            "evidence_missing", "evidence")
    problem(client.post(death_url, headers=teller, json={**body, "date_of_death": "2999-01-01"}),
            422, "death_in_future", "date_of_death")
    died = ok(client.post(death_url, headers=teller, json=body), 201)
    assert died["result"]["date_of_death"] == f"{YEAR}-02-10"
    problem(client.post(death_url, headers=teller, json={**body, "date_of_death": f"{YEAR}-02-11"}),
            409, "death_already_recorded", "date_of_death")
    posted = ok(client.post("/v1/contributions", headers=teller, json={
        "id_number": person, "employer_code": employer, "period": f"{YEAR}-04"}), 201)

    problem(client.get("/v1/alerts", headers=teller), 403, "role_forbidden")
    listed = ok(client.get("/v1/alerts", headers=auditor,
                           params={"min_position": posted["position"]}))
    assert [a["rule_code"] for a in listed["items"]] == ["after_death", "after_death"]
    before, after = listed["items"]
    assert before["details"]["periods"] == [f"{YEAR}-03"]  # found when the death was recorded
    assert after["details"]["periods"] == [f"{YEAR}-04"] and after["actors"] == ["teller1"]
    assert after["severity"] == "high" and after["status"] == "raised"
    mine = ok(client.get("/v1/alerts", headers=auditor, params={
        "id_number": person, "rule": "after_death", "status": "raised"}))
    assert len(mine["items"]) == 2
    assert ok(client.get("/v1/alerts", headers=auditor, params={
        "id_number": id_number(sequence=2)}))["items"] == []
    problem(client.get("/v1/alerts", headers=auditor, params={"rule": "night_postings"}), 422,
            "rule_unknown", "rule")

    url = f"/v1/alerts/{after['alert_id']}"
    detail = ok(client.get(url, headers=director))
    assert [e["type"] for e in detail["linked_events"]] == ["Person.DeathRecorded",
                                                            "ContributionMonth.Posted"]
    death_event = detail["linked_events"][0]
    assert death_event["found"] and death_event["state"]["meta"]["actor"] == "teller1"
    assert death_event["state"]["evidence"] == "死亡医学证明"
    # an auditor sees the linked events with personal data masked
    seen_by_auditor = client.get(url, headers=auditor)
    assert seen_by_auditor.status_code == 200 and person not in seen_by_auditor.text
    problem(client.get("/v1/alerts/00000000-0000-0000-0000-000000000000", headers=auditor),
            404, "alert_not_found", "alert_id")
    problem(client.get("/v1/alerts/not-an-id", headers=auditor), 422, "alert_id_malformed",
            "alert_id")

    problem(client.post(url + "/acknowledgement", headers=teller, json={}), 403,
            "role_forbidden")
    acked = ok(client.post(url + "/acknowledgement", headers=auditor,
                           json={"note": "asking the employer"}), 201)
    assert acked["result"]["status"] == "acknowledged"
    assert acked["result"]["acknowledged_by"] == "auditor1"
    problem(client.post(url + "/acknowledgement", headers=director, json={"note": "me"}), 409,
            "alert_already_acknowledged", "alert_id")
    problem(client.post(url + "/closure", headers=auditor, json={"resolution": ""}), 422,
            "resolution_missing", "resolution")
    closed = ok(client.post(url + "/closure", headers=auditor, json={
        "resolution": "employer posted by mistake; month reversed and refunded"}), 201)
    assert closed["result"]["status"] == "closed"
    problem(client.post(url + "/closure", headers=director, json={"resolution": "other"}), 409,
            "alert_already_closed", "alert_id")
    done = ok(client.get("/v1/alerts", headers=auditor, params={
        "status": "closed", "min_position": closed["position"]}))
    assert [a["alert_id"] for a in done["items"]] == [after["alert_id"]]
    assert done["items"][0]["closed_by"] == "auditor1"
