"""The HTTP API end to end, on SQLite and PostgreSQL: FastAPI's TestClient drives the real app
(lifespan, container, store, read models). The app runs without its follower thread, so reads
with `min_position` catch the read models up in the request's thread."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import REQUEST_BODY_BYTES_MAX, create_app
from api.routers import contributions
from domain.identity import id_number_check_char, uscc_check_char
from infra.settings import Settings

PROBLEM_JSON = "application/problem+json"
YEAR = 2024
WAGE_FEN = 800_000  # 8000 yuan a month, inside the year's base bounds


def id_number(birth: str = "19900101", sequence: int = 1) -> str:
    first17 = f"440781{birth}{sequence:03d}"
    return first17 + id_number_check_char(first17)


def credit_code(n: int = 1) -> str:
    first17 = f"91440781MA{n:07d}"
    return first17 + uscc_check_char(first17)


def bad_check_char(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


# Reads of a person's record must say why (api/access.py): the test users always do, so that
# every read below is recorded; tests/e2e/test_access_log_api.py checks reads that do not.
ACCESS_REASON = {"X-Access-Reason": "counter_service"}


def auth(client: TestClient, username: str, *roles: str) -> dict[str, str]:
    _user, token = client.app.state.container.staff.add_user(username, list(roles))  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {token}", **ACCESS_REASON}


def head(client: TestClient) -> int:
    return int(client.app.state.container.store.max_position())  # type: ignore[attr-defined]


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def problem(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["type"] == f"urn:shebao:problem:{code}"
    assert body["status"] == status
    assert body["field"] == field, body
    return body


def register(client: TestClient, teller: dict[str, str], person: str, employer: str) -> None:
    """Employer, person, employment from January, and the year's base."""
    ok(client.post("/v1/employers", headers=teller, json={
        "credit_code": employer, "name": "示例制造有限公司", "employer_type": "enterprise",
        "risk_class": 2, "registered_on": "2020-01-01"}), 201)
    ok(client.post("/v1/persons", headers=teller, json={
        "id_number": person, "name": "张三", "registered_on": "2020-01-01"}), 201)
    ok(client.post(f"/v1/persons/{person}/employments", headers=teller, json={
        "employer_code": employer, "start_date": f"{YEAR}-01-01"}), 201)
    ok(client.post(f"/v1/persons/{person}/bases", headers=teller, json={
        "year": YEAR, "declared_wage_fen": WAGE_FEN}))


def posting(person: str, employer: str, period: str = f"{YEAR}-01", **extra: Any
            ) -> dict[str, Any]:
    return {"id_number": person, "employer_code": employer, "period": period, **extra}


def pension_account_fen(posted: dict[str, Any]) -> int:
    return sum(line["account_fen"] for line in posted["result"]["lines"]
               if line["insurance"] == "110")


# -- the happy path ------------------------------------------------------------------------------

def test_registered_person_posts_a_month_and_reads_the_balance(client: TestClient) -> None:
    teller = auth(client, "teller1", "teller")
    person, employer = id_number(), credit_code()
    register(client, teller, person, employer)

    summary = ok(client.get(f"/v1/persons/{person}", headers=teller))
    assert summary["id_number"] == person and summary["sex"] == "M"  # 17th digit 1: odd
    assert summary["birth_date"] == "1990-01-01"
    assert summary["employments"] == [
        {"employer_code": employer, "start_date": f"{YEAR}-01-01", "end_date": None}]
    assert summary["bases"] == [
        {"year": YEAR, "declared_wage_fen": WAGE_FEN, "base_fen": WAGE_FEN}]
    assert ok(client.get(f"/v1/employers/{employer}", headers=teller))["risk_class"] == 2

    posted = ok(client.post("/v1/contributions", headers=teller,
                            json=posting(person, employer)), 201)
    assert posted["replayed"] is False
    assert posted["result"]["status"] == "posted"
    assert posted["result"]["total_fen"] == sum(
        line["employer_fen"] + line["individual_fen"] for line in posted["result"]["lines"])
    credit_fen = pension_account_fen(posted)
    assert credit_fen > 0

    account = ok(client.get(f"/v1/persons/{person}/account", headers=teller,
                            params={"min_position": posted["position"]}))
    assert account["balance_fen"] == credit_fen
    assert account["position"] >= posted["position"]
    assert [(e["period"], e["kind"], e["amount_fen"]) for e in account["entries"]] == [
        (f"{YEAR}-01", "contribution", credit_fen)]
    before = ok(client.get(f"/v1/persons/{person}/account", headers=teller,
                           params={"as_of": f"{YEAR}-01-30"}))
    assert before["balance_fen"] == 0 and before["entries"] == []

    history = ok(client.get(f"/v1/persons/{person}/contributions", headers=teller))
    assert [(i["period"], i["kind"]) for i in history["items"]] == [(f"{YEAR}-01", "posted")]
    assert history["next_offset"] is None


def test_with_the_follower_thread_reads_wait_for_the_command_position(
        settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:  # follow=True: the serving configuration
        teller = auth(client, "teller1", "teller")
        person, employer = id_number(), credit_code()
        register(client, teller, person, employer)
        posted = ok(client.post("/v1/contributions", headers=teller,
                                json=posting(person, employer)), 201)
        account = ok(client.get(f"/v1/persons/{person}/account", headers=teller,
                                params={"min_position": posted["position"], "wait_seconds": 5}))
        assert account["balance_fen"] == pension_account_fen(posted)
        assert ok(client.get("/v1/health"))["status"] == "ok"


def test_health_needs_no_token_and_reports_the_log_head(client: TestClient) -> None:
    body = ok(client.get("/v1/health"))
    assert body["status"] == "ok" and body["runner_error"] is None
    assert body["region"] == "440781"
    assert body["log_head"] == head(client)
    assert set(body["projections"]) >= {"fund_balances"}


# -- idempotency ----------------------------------------------------------------------------------

def test_replay_with_idempotency_key_returns_the_same_result_and_writes_nothing(
        client: TestClient) -> None:
    teller = auth(client, "teller1", "teller")
    person, employer = id_number(), credit_code()
    register(client, teller, person, employer)
    keyed = {**teller, "Idempotency-Key": "post-2024-01-abc"}

    first = ok(client.post("/v1/contributions", headers=keyed,
                           json=posting(person, employer)), 201)
    log_head = head(client)
    again = ok(client.post("/v1/contributions", headers=keyed,
                           json=posting(person, employer)), 201)
    assert again["replayed"] is True
    assert again["result"] == first["result"]
    assert head(client) == log_head

    other = client.post("/v1/contributions", headers=keyed,
                        json=posting(person, employer, period=f"{YEAR}-02"))
    problem(other, 409, "idempotency_key_reused", "Idempotency-Key")
    assert head(client) == log_head


# -- refused input --------------------------------------------------------------------------------

def test_bad_input_is_422_problem_json_and_changes_nothing(client: TestClient) -> None:
    teller = auth(client, "teller1", "teller")
    person, employer = id_number(), credit_code()
    register(client, teller, person, employer)
    log_head = head(client)

    problem(client.post("/v1/persons", headers=teller, json={
        "id_number": bad_check_char(id_number(sequence=2)), "name": "李四"}),
        422, "id_number_check_digit", "id_number")
    problem(client.post("/v1/contributions", headers=teller,
                        json=posting(person, employer, period="2024-13")),
            422, "period_out_of_range", "period")
    body = problem(client.post("/v1/contributions", headers=teller,
                               json=posting(person, employer, base_fen=800000.5)),
                   422, "request_invalid", "base_fen")
    assert body["errors"][0]["field"] == "base_fen"
    problem(client.post("/v1/contributions", headers=teller,
                        json=posting(person, employer, base_fen="800000")),
            422, "request_invalid", "base_fen")
    problem(client.post(f"/v1/persons/{person}/bases", headers=teller,
                        json={"year": YEAR, "declared_wage_fen": -1}),
            422, "amount_negative", "declared_wage_fen")
    problem(client.post("/v1/contributions", headers=teller,
                        json=posting(person, employer, insurances=["110", "999"])),
            422, "insurance_unknown", "insurances")
    problem(client.post("/v1/contributions", headers=teller,
                        json=posting(person, employer, base_fn=800000)),
            422, "request_invalid", "base_fn")
    problem(client.post("/v1/employers", headers=teller, content=b"{not json",
                        ), 422, "request_invalid", None)
    assert head(client) == log_head


def test_unknown_route_and_unknown_person_are_problem_json(client: TestClient) -> None:
    teller = auth(client, "teller1", "teller")
    problem(client.get("/v1/nowhere"), 404, "route_not_found")
    problem(client.delete("/v1/funds", headers=teller), 405, "method_not_allowed")
    problem(client.get(f"/v1/persons/{id_number()}", headers=teller),
            404, "person_not_registered", "id_number")


def test_authentication_and_roles(client: TestClient) -> None:
    person, employer = id_number(), credit_code()
    body = posting(person, employer)
    missing = problem(client.post("/v1/contributions", json=body), 401, "token_missing")
    assert missing["title"] == "Unauthorized"
    response = client.post("/v1/contributions", json=body,
                           headers={"Authorization": "Bearer sbk_not-a-token"})
    problem(response, 401, "token_invalid")
    assert response.headers["www-authenticate"].startswith("Bearer")

    auditor = auth(client, "auditor1", "auditor")
    denied = problem(client.post("/v1/contributions", headers=auditor, json=body),
                     403, "role_forbidden")
    assert "reconciler" in denied["detail"] and "teller" in denied["detail"]
    problem(client.post("/v1/interest/2024", headers=auth(client, "teller1", "teller")),
            403, "role_forbidden")
    # admin may do everything; the funds read is open to the auditor
    ok(client.get("/v1/funds", headers=auditor))
    problem(client.post("/v1/contributions", headers=auth(client, "root", "admin"), json=body),
            404, "person_not_registered", "id_number")


def test_a_deactivated_users_remembered_token_is_refused_at_once(client: TestClient) -> None:
    """The API remembers a valid token for a few seconds (infra/staff_service.py); deactivating
    the user in the serving process forgets it: the very next request is 401."""
    teller = auth(client, "teller9", "teller")
    ok(client.get("/v1/funds", headers=teller))
    staff = client.app.state.container.staff  # type: ignore[attr-defined]
    assert staff.remembered(teller["Authorization"].removeprefix("Bearer ")) is not None
    staff.deactivate("teller9", "left the office")
    problem(client.get("/v1/funds", headers=teller), 401, "token_invalid")


# -- batch ---------------------------------------------------------------------------------------

def test_batch_posts_the_valid_lines_and_rejects_the_invalid_ones(client: TestClient) -> None:
    teller = auth(client, "teller1", "teller")
    reconciler = auth(client, "recon1", "reconciler")
    person, employer = id_number(), credit_code()
    register(client, teller, person, employer)
    stranger = id_number(sequence=3)  # valid, never registered

    lines = [
        posting(person, employer, f"{YEAR}-01"),
        posting(bad_check_char(person), employer, f"{YEAR}-02"),
        posting(person, employer, f"{YEAR}-03"),
        posting(person, employer, f"{YEAR}-04", insurances=["999"]),
        posting(stranger, employer, f"{YEAR}-01"),
        posting(person, employer, f"{YEAR}-05", base_fen=-5),
    ]
    body = ok(client.post("/v1/contributions/batch", headers=reconciler,
                          json={"source": "tax-2024-01.csv", "lines": lines}))
    assert body["summary"] == {"posted": 2, "duplicate": 0, "rejected": 4}
    assert body["source"] == "api:recon1:tax-2024-01.csv"
    outcomes = {o["index"]: o for o in body["outcomes"]}
    assert [outcomes[i]["status"] for i in range(6)] == [
        "posted", "rejected", "posted", "rejected", "rejected", "rejected"]
    assert (outcomes[1]["code"], outcomes[1]["field"]) == ("id_number_check_digit", "id_number")
    assert outcomes[3]["code"] == "insurance_unknown"
    assert (outcomes[4]["code"], outcomes[4]["field"]) == ("person_not_registered", "id_number")
    assert (outcomes[5]["code"], outcomes[5]["field"]) == ("amount_negative", "base_fen")
    assert outcomes[0]["total_fen"] > 0 and outcomes[0]["code"] is None

    history = ok(client.get(f"/v1/persons/{person}/contributions", headers=teller,
                            params={"min_position": body["position"]}))
    assert [i["period"] for i in history["items"]] == [f"{YEAR}-01", f"{YEAR}-03"]

    log_head = head(client)
    again = ok(client.post("/v1/contributions/batch", headers=reconciler,
                           json={"lines": lines[:1]}))
    assert again["summary"] == {"posted": 0, "duplicate": 1, "rejected": 0}
    assert head(client) == log_head

    problem(client.post("/v1/contributions/batch", headers=reconciler,
                        json={"lines": [posting(person, employer, base_fen=1.5)]}),
            422, "request_invalid", "lines.0.base_fen")


def test_batches_and_bodies_over_their_limits_are_refused(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    reconciler = auth(client, "recon1", "reconciler")
    monkeypatch.setattr(contributions, "BATCH_LINES_MAX", 2)
    lines = [posting(id_number(sequence=n), credit_code()) for n in range(3)]
    problem(client.post("/v1/contributions/batch", headers=reconciler, json={"lines": lines}),
            413, "batch_too_large", "lines")
    problem(client.post("/v1/contributions/batch", headers=reconciler,
                        content=b" " * (REQUEST_BODY_BYTES_MAX + 1)), 413, "body_too_large")


# -- reversal and the trial balance --------------------------------------------------------------

def test_reversal_then_repost_and_the_trial_balance_stays_balanced(client: TestClient) -> None:
    teller = auth(client, "teller1", "teller")
    reviewer = auth(client, "reviewer1", "reviewer")
    person, employer = id_number(), credit_code()
    register(client, teller, person, employer)
    period = f"{YEAR}-01"
    posted = ok(client.post("/v1/contributions", headers=teller,
                            json=posting(person, employer, period)), 201)

    problem(client.post(f"/v1/contributions/{person}/{period}/reversal", headers=teller,
                        json={"reason": "wrong base"}), 403, "role_forbidden")
    reversed_ = ok(client.post(f"/v1/contributions/{person}/{period}/reversal",
                               headers=reviewer, json={"reason": "wrong base"}))
    assert reversed_["result"]["status"] == "reversed"
    assert reversed_["result"]["reversals"] == 1
    account = ok(client.get(f"/v1/persons/{person}/account", headers=teller,
                            params={"min_position": reversed_["position"]}))
    assert account["balance_fen"] == 0

    reposted = ok(client.post("/v1/contributions", headers=teller,
                              json=posting(person, employer, period, base_fen=900_000)), 201)
    assert reposted["result"]["status"] == "posted"
    assert reposted["result"]["total_fen"] > posted["result"]["total_fen"]
    account = ok(client.get(f"/v1/persons/{person}/account", headers=teller,
                            params={"min_position": reposted["position"]}))
    assert account["balance_fen"] == pension_account_fen(reposted)
    assert [e["kind"] for e in account["entries"]] == ["contribution", "reversal", "contribution"]

    funds = ok(client.get("/v1/funds", headers=teller,
                          params={"min_position": reposted["position"]}))
    trial = funds["trial_balance"]
    assert trial["balanced"] is True and trial["debit_fen"] == trial["credit_fen"] > 0
    assert funds["position"] >= reposted["position"]


def test_admin_credits_interest_once_per_year(client: TestClient) -> None:
    teller = auth(client, "teller1", "teller")
    admin = auth(client, "root", "admin")
    person, employer = id_number(), credit_code()
    register(client, teller, person, employer)
    ok(client.post("/v1/contributions", headers=teller, json=posting(person, employer)), 201)

    first = ok(client.post(f"/v1/interest/{YEAR}", headers=admin))
    assert (first["result"]["credited"], first["result"]["skipped"]) == (1, 0)
    assert first["result"]["interest_fen"] > 0
    log_head = head(client)
    second = ok(client.post(f"/v1/interest/{YEAR}", headers=admin))
    assert (second["result"]["credited"], second["result"]["skipped"]) == (0, 1)
    assert head(client) == log_head


def test_openapi_documents_problems_as_problem_json(client: TestClient) -> None:
    schema = ok(client.get("/openapi.json"))
    responses = schema["paths"]["/v1/contributions"]["post"]["responses"]
    assert set(responses["422"]["content"]) == {PROBLEM_JSON}
    assert client.get("/docs").status_code == 200


def test_a_position_not_reached_in_time_is_503_with_retry_after(client: TestClient) -> None:
    teller = auth(client, "teller1", "teller")
    response = client.get("/v1/funds", headers=teller,
                          params={"min_position": head(client) + 1000, "wait_seconds": 0})
    problem(response, 503, "projection_lagging", "min_position")
    assert int(response.headers["retry-after"]) >= 1
