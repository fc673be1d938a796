"""Back-payment (补缴) computation: late fee per month and insurance (DOMAIN.md §6's example),
capped at the amount; interest of the credited years recomputed with the back-paid credits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.assessment import RateSchedule, rate_schedule
from domain.backpay import (
    RecordedYear,
    backpay_interest_fen,
    backpay_month,
    collection_journal,
    recompute_interest,
    with_credits,
)
from domain.errors import ValidationFailed
from domain.interest import compute_year_interest
from domain.journal import CLEARING_TAX, assert_balanced
from domain.money import round_fen
from domain.periods import Period
from infra.policy_loader import default_policy

policy = default_policy()


def whole_base_schedule(period: Period) -> RateSchedule:
    """One insurance whose employer rate is 100%: the month's amount is the base."""
    return RateSchedule(period, 1, 10**9, (("110", 1, 0, 0, 1),))


def test_domain_example_10000_yuan_45_days_late_costs_225_yuan() -> None:
    # 2023-01 falls due on 2023-02-15 (due_day 15); paid on 2023-04-01: 45 days late
    month = backpay_month(policy, whole_base_schedule(Period(2023, 1)), 1_000_000,
                          date(2023, 4, 1))
    assert month.due_date == date(2023, 2, 15)
    assert month.days_late == 45
    assert month.late_fees == [["110", 22_500]]
    assert month.late_fee_fen == 22_500


def test_the_late_fee_is_capped_at_the_amount() -> None:
    month = backpay_month(policy, whole_base_schedule(Period(2016, 1)), 1_000_000,
                          date(2024, 1, 1))
    assert month.days_late > 2000
    assert month.late_fee_fen == 1_000_000


def test_each_insurance_line_bears_its_own_fee_at_that_months_rates() -> None:
    schedule = rate_schedule(policy, Period(2022, 3), 3)
    month = backpay_month(policy, schedule, 900_000, date(2024, 6, 30))
    assert [line[0] for line in month.lines] == [fee[0] for fee in month.late_fees]
    for line, (_ins, fee) in zip(month.lines, month.late_fees, strict=True):
        amount = int(str(line[2])) + int(str(line[3]))
        assert fee == min(amount, round_fen(Decimal(amount) * Decimal("0.0005")
                                            * month.days_late))
    assert month.pension_account_fen == 72_000  # 8% of 9,000.00


def test_a_month_not_yet_due_is_not_a_back_payment() -> None:
    with pytest.raises(ValidationFailed) as info:
        backpay_month(policy, whole_base_schedule(Period(2024, 5)), 1_000_000,
                      date(2024, 6, 1))
    assert info.value.code == "backpay_month_not_due"


def test_interest_of_a_credit_in_march_2022_through_2024() -> None:
    schedule = rate_schedule(policy, Period(2022, 3), 3, ("110",))
    month = backpay_month(policy, schedule, 1_250_000, date(2025, 1, 31))  # account 100,000
    assert month.pension_account_fen == 100_000
    changes = recompute_interest(policy, {}, with_credits({}, [month]), 0, 2022, 2024)
    # 2022: 100,000 × 10 months × 6.12% / 12 = 5,100; 2023: 105,100 × 3.97% = 4,172.47;
    # 2024: 109,272 × 2.62% = 2,862.93
    assert [(c.year, c.delta_fen) for c in changes] == [(2022, 5_100), (2023, 4_172),
                                                        (2024, 2_863)]
    assert backpay_interest_fen([], changes) == 12_135


credits_12 = st.lists(st.integers(0, 200_000), min_size=12, max_size=12).map(tuple)


@given(opening=st.integers(0, 10**8), years=st.lists(credits_12, min_size=1, max_size=4),
       added=st.integers(1, 100_000), month=st.integers(1, 12))
def test_recorded_years_are_unchanged_until_credits_are_added(
        opening: int, years: list[tuple[int, ...]], added: int,
        month: int) -> None:
    first = 2020
    recorded, credits, balance = {}, {}, opening
    for offset, year_credits in enumerate(years):
        year = first + offset
        result = compute_year_interest(year, policy.interest_rate(year).rate, balance,
                                       year_credits)
        recorded[year] = RecordedYear(year, balance, year_credits, result.interest_fen,
                                      result.closing_fen)
        credits[year] = year_credits
        balance = result.closing_fen
    last = first + len(years) - 1
    assert recompute_interest(policy, recorded, credits, opening, first, last) == []

    more = dict(credits)
    bumped = list(more[first])
    bumped[month - 1] += added
    more[first] = tuple(bumped)
    changes = recompute_interest(policy, recorded, more, opening, first, last)
    assert changes[0].year == first
    assert all(c.delta_fen >= 0 for c in changes)


def test_the_collection_journal_balances_and_debits_the_clearing_account() -> None:
    schedule = rate_schedule(policy, Period(2022, 3), 3)
    months = [backpay_month(policy, schedule, 900_000, date(2024, 6, 30))]
    journal = collection_journal(months, 1_234)
    assert_balanced(journal)
    assert journal[0] == [CLEARING_TAX, months[0].late_fee_fen + 1_234, 0]
    # the pension fund gets its late fee, then the interest (two lines: fee and interest)
    assert [line for line in journal if line[0] == "fund:110"] == [
        ["fund:110", 0, int(str(months[0].late_fees[0][1]))], ["fund:110", 0, 1_234]]
