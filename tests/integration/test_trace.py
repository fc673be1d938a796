"""Trace of every fen and bitemporal reads, on SQLite and PostgreSQL: an account's events with
running balance tying to the read models, who and what stands behind each (user, case with
signers and materials), a person's whole history, and a balance "as of D, known at T" that a
later back-posting does not change."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.errors import ValidationFailed
from domain.registration import Person
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.case_service import Actor, CaseService
from infra.queries import recorded_time
from infra.trace import csv_lines
from tests.helpers import make_id_number, seed_region

TELLER = Actor("teller1", ["teller"])
REVIEWER = Actor("reviewer1", ["reviewer"])
DEPUTY = Actor("deputy1", ["deputy_director"])
DIRECTOR = Actor("director1", ["director"])
PNG = b"\x89PNG\r\n\x1a\n" + b"scan" * 40
WAGE_FEN = 900_000
ACCOUNT_FEN_PER_MONTH = 72_000  # 8% of 9,000.00


def fund_balance(container: Container, account: str) -> int:
    return next(f["balance_fen"] for f in container.queries.fund_balances()
                if f["account"] == account)


def test_a_fund_trace_lists_every_event_with_running_balance_and_ties(
        container: Container) -> None:
    region = seed_region(container, persons=2, wage_fen=WAGE_FEN)
    BulkPoster(container.store, container.policy, "test").post(
        [PostingRequest(n, region.employer_code, f"2023-{m:02d}")
         for n in region.id_numbers for m in (1, 2, 3)])
    with container.ledger.acting("reviewer7"):
        container.ledger.reverse_contribution(region.id_numbers[0], "2023-02", "基数有误",
                                              source="api:reviewer7")
    container.runner.catch_up()

    trace = container.tracer.account("fund:110")
    entries = list(trace.entries)
    assert len(entries) == 7 and trace.count == 7  # six postings and one reversal
    assert trace.opening_balance_fen == 0
    assert entries[-1].balance_fen == trace.closing_balance_fen == fund_balance(
        container, "fund:110")
    assert trace.ties is True
    running = 0
    for entry in entries:
        running += entry.credit_fen - entry.debit_fen
        assert entry.balance_fen == running
    reversal = entries[-1]
    assert reversal.event == "ContributionMonth.Reversed"
    assert (reversal.actor, reversal.reason, reversal.period) == ("reviewer7", "基数有误",
                                                                  "2023-02")
    assert reversal.debit_fen > 0 and reversal.credit_fen == 0
    # a debit-normal account runs the other way
    clearing = container.tracer.account("clearing:tax")
    assert [e.balance_fen for e in clearing.entries][-1] == clearing.closing_balance_fen
    assert clearing.ties is True

    # days: everything was recorded today (CST)
    today = datetime.now(UTC).astimezone().date()
    later = container.tracer.account("fund:110", (today + timedelta(days=2)).isoformat())
    assert list(later.entries) == [] and later.opening_balance_fen == trace.closing_balance_fen
    earlier = container.tracer.account("fund:110", None, (today - timedelta(days=2)).isoformat())
    assert list(earlier.entries) == [] and earlier.closing_balance_fen == 0 and earlier.ties

    # the CSV export: opening row, one row per event, closing row with the tie
    text = "".join(csv_lines(container.tracer.account("fund:110")))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "position" and len(rows) == 1 + 1 + 7 + 1
    assert rows[-1][10] == str(trace.closing_balance_fen) and rows[-1][11].endswith("True")


def test_a_personal_trace_shows_the_case_its_signers_and_materials(
        container: Container) -> None:
    cases = CaseService(container)
    available = [code for code, item in cases.catalogue.items.items() if item.available]
    cases.change_authorisation("teller1", available, [], "admin", "permission request 1")
    region = seed_region(container, persons=0, year=2023)
    number = make_id_number(46, birth=date(1964, 6, 1))
    container.ledger.register_person(number, "衔接人", registered_on="2015-01-01")
    container.ledger.start_employment(number, region.employer_code, "2023-01-01")
    container.ledger.declare_base(number, 2023, WAGE_FEN)
    BulkPoster(container.store, container.policy, "test").post(
        [PostingRequest(number, region.employer_code, f"2023-{m:02d}") for m in range(1, 13)])
    opened = cases.open("resident_link", {
        "employment_end": {"id_number": number, "employer_code": region.employer_code,
                           "end_date": "2025-01-31"},
        "employee_resident_link": {"id_number": number, "linked_on": "2025-02-03"}},
        TELLER, opened_on=date(2025, 3, 3)).result
    cases.attach(opened["case_id"], "link_application", io.BytesIO(PNG), "a.png", TELLER)
    for signer in (REVIEWER, DEPUTY, DIRECTOR):
        cases.sign(opened["case_id"], signer)
    container.runner.catch_up()
    person_id = str(Person.create_id(container.settings.region_code, number))

    trace = container.tracer.account(f"personal:{person_id}:110")
    entries = list(trace.entries)
    assert len(entries) == 13 and trace.ties is True and trace.closing_balance_fen == 0
    assert entries[11].balance_fen == 12 * ACCOUNT_FEN_PER_MONTH
    link = entries[-1]
    assert link.event == "SchemeLink.Linked" and link.debit_fen == 12 * ACCOUNT_FEN_PER_MONTH
    assert link.case_id == opened["case_id"] and link.case_item.startswith("resident_link")
    assert [s.split(" ")[0] for s in link.signers] == ["reviewer1", "deputy1", "director1"]
    assert len(link.materials) == 1 and link.materials[0].startswith("link_application ")
    assert link.actor == "director1"  # the last signer completed the case
    moved = container.tracer.account(f"personal:{person_id}:170")
    assert [e.credit_fen for e in moved.entries] == [12 * ACCOUNT_FEN_PER_MONTH]

    # the person's whole history: registration, employment, base, months, case, link
    history = container.tracer.person_history(person_id)
    kinds = [e.event for e in history]
    assert kinds[0] == "Person.Registered"
    assert kinds.count("ContributionMonth.Posted") == 12
    assert "Case.Opened" in kinds and "SchemeLink.Linked" in kinds
    assert [h.position for h in history] == sorted(h.position for h in history)
    linked = next(e for e in history if e.event == "SchemeLink.Linked")
    assert linked.amounts == {f"personal:{person_id}:110": -12 * ACCOUNT_FEN_PER_MONTH,
                              f"personal:{person_id}:170": 12 * ACCOUNT_FEN_PER_MONTH}


def test_trace_refuses_unknown_accounts_and_spans(container: Container) -> None:
    for account in ("fund:", "personal:xyz:110", "cash", "fund:110; DROP TABLE x"):
        with pytest.raises(ValidationFailed) as info:
            container.tracer.account(account)
        assert info.value.code == "account_invalid"
    with pytest.raises(ValidationFailed) as span:
        container.tracer.account("fund:110", "2025-02-01", "2025-01-01")
    assert span.value.code == "span_invalid"
    with pytest.raises(ValidationFailed) as day:
        container.tracer.account("fund:110", "2025-13-01")
    assert day.value.code == "date_invalid"


def test_as_of_a_date_as_known_at_a_time(container: Container) -> None:
    region = seed_region(container, persons=1, wage_fen=WAGE_FEN)
    number, code, person_id = region.id_numbers[0], region.employer_code, region.person_ids[0]
    poster = BulkPoster(container.store, container.policy, "test")
    poster.post([PostingRequest(number, code, f"2023-{m:02d}") for m in (1, 2, 4, 5)])
    container.runner.catch_up()
    known_then = recorded_time(datetime.now(UTC))
    # March is paid late: recorded now, effective at the end of March
    BulkPoster(container.store, container.policy, "backpay:test").post(
        [PostingRequest(number, code, "2023-03")])
    container.runner.catch_up()

    q = container.queries
    as_known_now = q.account_balance(person_id, as_of="2023-03-31")
    as_known_then = q.account_balance(person_id, as_of="2023-03-31", known_at=known_then)
    assert as_known_now["balance_fen"] == 3 * ACCOUNT_FEN_PER_MONTH
    assert as_known_then["balance_fen"] == 2 * ACCOUNT_FEN_PER_MONTH
    # later dates: the same difference; the known-then view never changes again
    assert q.account_balance(person_id, known_at=known_then)["balance_fen"] == (
        4 * ACCOUNT_FEN_PER_MONTH)
    assert q.account_balance(person_id)["balance_fen"] == 5 * ACCOUNT_FEN_PER_MONTH
    assert len(q.account_entries(person_id, known_at=known_then)) == 4
    assert [h["period"] for h in q.history(person_id, known_at=known_then)] == [
        "2023-01", "2023-02", "2023-04", "2023-05"]
    # a naive time is China Standard Time
    assert recorded_time(datetime(2025, 1, 1, 8, 0)) == "2025-01-01T00:00:00.000000+00:00"
