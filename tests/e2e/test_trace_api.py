"""Trace and bitemporal reads over HTTP, on SQLite and PostgreSQL: an auditor traces the pension
fund (JSON, cut at `limit` with whole-span totals, and CSV), a person's account and whole
history; a teller may not; the account "as of a date, known at a time" ignores a later
back-posting; bad accounts and spans are refused with their field."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from api.app import create_app
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.settings import Settings
from tests.e2e.test_api import auth, ok, problem, register
from tests.e2e.test_import_api import container_of
from tests.helpers import make_credit_code, make_id_number, seed_region

ACCOUNT_FEN_PER_MONTH = 80_000  # 8% of the seed wage 10,000.00


def test_an_auditor_traces_accounts_and_a_person(settings: Settings) -> None:
    with TestClient(create_app(settings, follow=False)) as client:
        auditor = auth(client, "auditor1", "auditor")
        teller = auth(client, "teller1", "teller")
        container = container_of(client)
        region = seed_region(container, persons=2)
        number, person_id = region.id_numbers[0], region.person_ids[0]
        BulkPoster(container.store, container.policy, "test").post(
            [PostingRequest(n, region.employer_code, f"2023-{m:02d}")
             for n in region.id_numbers for m in (1, 2, 4)])
        container.runner.catch_up()
        known_then = datetime.now(UTC).isoformat()
        BulkPoster(container.store, container.policy, "backpay:late").post(
            [PostingRequest(number, region.employer_code, "2023-03")])
        container.runner.catch_up()

        problem(client.get("/v1/trace", params={"account": "fund:110"}, headers=teller),
                403, "role_forbidden")
        whole = ok(client.get("/v1/trace", params={"account": "fund:110"}, headers=auditor))
        assert whole["entries"] == 7 and whole["ties"] is True and not whole["truncated"]
        cut = ok(client.get("/v1/trace", params={"account": "fund:110", "limit": 2},
                            headers=auditor))
        assert len(cut["items"]) == 2 and cut["truncated"]
        assert cut["closing_balance_fen"] == whole["closing_balance_fen"]
        assert whole["items"][-1]["source"] == "backpay:late"

        exported = client.get("/v1/trace.csv", params={"account": "fund:110"}, headers=auditor)
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
        assert len(rows) == 1 + 1 + 7 + 1

        mine = ok(client.get("/v1/trace", params={"account": f"personal:{person_id}:110"},
                             headers=auditor))
        assert [i["balance_fen"] for i in mine["items"]] == [
            ACCOUNT_FEN_PER_MONTH * k for k in (1, 2, 3, 4)]
        history = ok(client.get(f"/v1/persons/{number}/trace", headers=auditor))
        assert history["person_id"] == person_id
        assert [i["event"] for i in history["items"]][:3] == [
            "Person.Registered", "Person.EmploymentStarted", "Person.BaseDeclared"]

        problem(client.get("/v1/trace", params={"account": "cash"}, headers=auditor),
                422, "account_invalid", "account")
        problem(client.get("/v1/trace", params={"account": "fund:110", "from": "2025-02-01",
                                                "to": "2025-01-01"}, headers=auditor),
                422, "span_invalid", "from")

        reader = {**auth(client, "reviewer1", "reviewer"), "X-Access-Reason": "audit"}
        now = ok(client.get(f"/v1/persons/{number}/account",
                            params={"as_of": "2023-03-31"}, headers=reader))
        then = ok(client.get(f"/v1/persons/{number}/account",
                             params={"as_of": "2023-03-31", "known_at": known_then},
                             headers=reader))
        assert now["balance_fen"] == 3 * ACCOUNT_FEN_PER_MONTH
        assert then["balance_fen"] == 2 * ACCOUNT_FEN_PER_MONTH and then["known_at"]
        history_then = ok(client.get(f"/v1/persons/{number}/contributions",
                                     params={"known_at": known_then}, headers=reader))
        assert [i["period"] for i in history_then["items"]] == ["2023-01", "2023-02", "2023-04"]


def test_every_api_command_records_its_user(settings: Settings) -> None:
    with TestClient(create_app(settings, follow=False)) as client:
        teller = auth(client, "teller9", "teller")
        reviewer = auth(client, "reviewer9", "reviewer")
        auditor = auth(client, "auditor9", "auditor")
        person, employer = make_id_number(77), make_credit_code(77)
        register(client, teller, person, employer)
        ok(client.post("/v1/contributions", headers=teller,
                       json={"id_number": person, "employer_code": employer,
                             "period": "2024-01"}), 201)
        ok(client.post(f"/v1/contributions/{person}/2024-01/reversal", headers=reviewer,
                       json={"reason": "基数有误"}))
        container_of(client).runner.catch_up()
        history = ok(client.get(f"/v1/persons/{person}/trace", headers=auditor))["items"]
        actors = {(i["event"], i["actor"], i["command"]) for i in history}
        assert ("Person.Registered", "teller9", "register_person") in actors
        assert ("Person.BaseDeclared", "teller9", "declare_base") in actors
        assert ("ContributionMonth.Posted", "teller9", "post_contribution") in actors
        assert ("ContributionMonth.Reversed", "reviewer9", "reverse_contribution") in actors
        # one request's user never leaks into another's events
        assert all(i["actor"] in ("teller9", "reviewer9") for i in history)
