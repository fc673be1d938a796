"""Back-payment (补缴) end to end, on SQLite and PostgreSQL: the assessment of past months at
their own rates with late fees and the interest of credited years; the collection posts the
months in their periods, recomputes the credited years by events (the first computation stays
in the log), charges the payer exactly what the account gets, and keeps the books balanced."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.assessment import assess_month
from domain.errors import Conflict, ValidationFailed
from domain.interest_year import InterestYear
from domain.periods import Period
from infra.backpay_service import assess_backpay, cancel_backpay, collect_backpay
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.collection_import import import_collections
from infra.interest_service import credit_interest
from tests.helpers import all_events, seed_region

WAGE_FEN = 900_000
BACK_PERIODS = ("2022-03", "2022-04", "2022-05")


def balances(container: Container) -> dict[str, int]:
    container.runner.catch_up()
    return {f["account"]: f["balance_fen"] for f in container.queries.fund_balances()}


def trial_balance(container: Container) -> bool:
    container.runner.catch_up()
    funds = container.queries.fund_balances()
    return sum(f["debit_fen"] for f in funds) == sum(f["credit_fen"] for f in funds)


def setup_credited_years(container: Container) -> tuple[str, str, str]:
    """A person paid 2022 except March-May, and 2023; interest credited for 2022 and 2023."""
    region = seed_region(container, persons=1, year=2022, wage_fen=WAGE_FEN, years=(2023,))
    number, code = region.id_numbers[0], region.employer_code
    periods = [f"2022-{m:02d}" for m in range(1, 13) if f"2022-{m:02d}" not in BACK_PERIODS]
    periods += [f"2023-{m:02d}" for m in range(1, 13)]
    posted = BulkPoster(container.store, container.policy, "test").post(
        [PostingRequest(number, code, p) for p in periods])
    assert posted.summary()["posted"] == len(periods)
    for year in (2022, 2023):
        credit_interest(container.store, container.policy, container.runner, container.queries,
                        year)
    return number, code, region.person_ids[0]


def test_assessment_collection_and_recomputed_interest(container: Container) -> None:
    number, code, person = setup_credited_years(container)
    container.runner.catch_up()
    before = container.queries.account_balance(person)["balance_fen"]
    funds_before = balances(container)

    assessed = assess_backpay(container, number, code, "2022-03", "2022-05",
                              pay_by="2024-04-30", reason="payroll 2022-03..05 found",
                              assessed_by="clerk1").result
    assert assessed["status"] == "assessed" and assessed["periods"] == list(BACK_PERIODS)
    # the months at their own rates, each with its late fee from its due date to pay_by
    for month in assessed["months"]:
        period = Period(int(month["period"][:4]), int(month["period"][5:]))
        assert month["lines"] == assess_month(container.policy, period, WAGE_FEN, 3)
        due = container.policy.due_date(period)
        assert month["days_late"] == (date(2024, 4, 30) - due).days
        assert month["pension_account_fen"] == 72_000
    principal = sum(m["total_fen"] for m in assessed["months"])
    assert assessed["principal_fen"] == principal
    assert assessed["late_fee_fen"] == sum(m["late_fee_fen"] for m in assessed["months"]) > 0
    assert [y["year"] for y in assessed["interest_years"]] == [2022, 2023]
    assert assessed["interest_fen"] == sum(y["delta_fen"] for y in assessed["interest_years"])
    assert assessed["interest_fen"] > 0
    total = assessed["total_fen"]
    assert total == principal + assessed["late_fee_fen"] + assessed["interest_fen"]

    backpay_id = assessed["backpay_id"]
    head = container.store.max_position()
    with pytest.raises(Conflict) as short:
        collect_backpay(container, backpay_id, "2024-04-20", "SW-BP-1", total - 1, "tax")
    assert short.value.code == "backpay_amount_differs"
    with pytest.raises(Conflict) as late:
        collect_backpay(container, backpay_id, "2024-05-02", "SW-BP-1", total, "tax")
    assert late.value.code == "backpay_assessment_expired"
    assert container.store.max_position() == head

    done = collect_backpay(container, backpay_id, "2024-04-20", "SW-BP-1", total, "tax")
    assert done.result["status"] == "collected"
    again = collect_backpay(container, backpay_id, "2024-04-20", "SW-BP-1", total, "tax")
    assert again.result == done.result and again.position == container.store.max_position()
    with pytest.raises(Conflict) as other:
        collect_backpay(container, backpay_id, "2024-04-20", "SW-BP-2", total, "tax")
    assert other.value.code == "backpay_collected"

    # the months are posted in their periods, from the back-payment
    container.runner.catch_up()
    history = {h["period"]: h for h in container.queries.history(person)}
    assert all(history[p]["kind"] == "posted" for p in BACK_PERIODS)
    # interest years recomputed by new events; the first computation stays in the log
    events = [type(e).__qualname__ for e in all_events(container)
              if e.originator_id == InterestYear.create_id(person, 2022)]
    assert events == ["InterestYear.Credited", "InterestYear.Recomputed"]
    # the account got the credits and exactly the interest the payer paid
    after = container.queries.account_balance(person)["balance_fen"]
    assert after - before == 3 * 72_000 + assessed["interest_fen"]
    as_of_2022 = container.queries.account_balance(person, as_of="2022-12-31")
    assert as_of_2022["by_kind_fen"]["contribution"] == 12 * 72_000
    # the pooled fund got the late fee; the interest it credited was paid by the payer
    funds = balances(container)
    assert funds["clearing:tax"] - funds_before["clearing:tax"] == total
    fee_110 = sum(int(fee) for m in assessed["months"] for ins, fee in m["late_fees"]
                  if ins == "110")
    pooled_110 = sum(int(line[2]) + int(line[3]) - int(line[4])
                     for m in assessed["months"] for line in m["lines"] if line[0] == "110")
    assert funds["fund:110"] - funds_before["fund:110"] == pooled_110 + fee_110
    assert trial_balance(container)

    # next year's crediting starts from the recomputed closing balance
    run = credit_interest(container.store, container.policy, container.runner,
                          container.queries, 2024)
    assert run.credited == 1
    year_2024: InterestYear = container.store.app.repository.get(
        InterestYear.create_id(person, 2024))
    year_2023: InterestYear = container.store.app.repository.get(
        InterestYear.create_id(person, 2023))
    assert year_2024.opening_fen == year_2023.closing_fen


def test_refusals(container: Container) -> None:
    number, code, _person = setup_credited_years(container)
    head = container.store.max_position()
    with pytest.raises(Conflict) as posted:
        assess_backpay(container, number, code, "2022-01", "2022-03", "2024-04-30", "x", "c1")
    assert posted.value.code == "month_already_posted"
    with pytest.raises(ValidationFailed) as empty:
        assess_backpay(container, number, code, "2022-05", "2022-03", "2024-04-30", "x", "c1")
    assert empty.value.code == "backpay_no_months"
    with pytest.raises(ValidationFailed) as no_reason:
        assess_backpay(container, number, code, "2022-03", "2022-05", "2024-04-30", " ", "c1")
    assert no_reason.value.code == "reason_missing"
    with pytest.raises(ValidationFailed) as not_due:
        assess_backpay(container, number, code, "2022-03", "2022-05", "2022-05-01", "x", "c1")
    assert not_due.value.code == "backpay_month_not_due"
    assert container.store.max_position() == head


def test_a_year_credited_after_the_assessment_makes_it_stale(container: Container) -> None:
    number, code, _person = setup_credited_years(container)
    assessed = assess_backpay(container, number, code, "2022-03", "2022-05", "2024-12-31",
                              "payroll found", "clerk1").result
    credit_interest(container.store, container.policy, container.runner, container.queries,
                    2024)
    with pytest.raises(Conflict) as stale:
        collect_backpay(container, assessed["backpay_id"], "2024-12-30", "SW-BP-9",
                        assessed["total_fen"], "tax")
    assert stale.value.code == "backpay_assessment_stale"
    cancelled = cancel_backpay(container, assessed["backpay_id"], "interest changed", "clerk1")
    assert cancelled.result["status"] == "cancelled"
    fresh = assess_backpay(container, number, code, "2022-03", "2022-05", "2024-12-31",
                           "payroll found", "clerk1").result
    assert [y["year"] for y in fresh["interest_years"]] == [2022, 2023, 2024]
    assert fresh["interest_fen"] > assessed["interest_fen"]
    collect_backpay(container, fresh["backpay_id"], "2024-12-30", "SW-BP-9",
                    fresh["total_fen"], "tax")
    assert trial_balance(container)


def test_lines_of_a_back_paid_month_in_a_collection_file_are_held_then_collected(
        container: Container, tmp_path: Path) -> None:
    from tests.integration.test_collection_import import month_rows, total_fen, write_file

    region = seed_region(container, persons=1, year=2023)
    number, code, person = region.id_numbers[0], region.employer_code, region.person_ids[0]
    assessed = assess_backpay(container, number, code, "2023-01", "2023-01", "2023-04-01",
                              "payroll found", "clerk1").result
    rows = month_rows(container, number, code, "2023-01", "BPF")
    summary = import_collections(container, write_file(tmp_path / "bp.csv", rows))
    assert summary.suspense_reasons == {"backpay_open": 5}
    principal = total_fen(rows)
    assert principal == assessed["principal_fen"]
    funds_before = balances(container)

    serials = [r["serial_no"] for r in rows]
    with pytest.raises(Conflict) as too_much:
        collect_backpay(container, assessed["backpay_id"], "2023-03-20", "SW-BP-F", 1, "tax",
                        from_suspense=serials)
    assert too_much.value.code == "backpay_amount_differs"
    done = collect_backpay(container, assessed["backpay_id"], "2023-03-20", "SW-BP-F",
                           assessed["total_fen"], "tax", from_suspense=serials)
    assert done.result["status"] == "collected"
    funds = balances(container)
    assert funds["suspense"] == 0
    # only the late fee came through clearing now; the principal was held already
    assert funds["clearing:tax"] - funds_before["clearing:tax"] == assessed["late_fee_fen"]
    assert {i["status"] for i in container.queries.suspense_items()} == {"assigned"}
    assert [h["period"] for h in container.queries.history(person)] == ["2023-01"]
    assert trial_balance(container)
    # a later file with the same month is an ordinary duplicate-month case now
    again = import_collections(container, write_file(
        tmp_path / "bp2.csv", month_rows(container, number, code, "2023-01", "BPG")))
    assert again.suspense_reasons == {"collected_twice": 5}
