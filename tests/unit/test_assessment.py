"""Assessment (核定) of a person-month and the journal that posts it: the amounts per insurance,
the bounds, and the double-entry invariants (debits = credits, money conserved)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.assessment import (
    EMPLOYEE_INSURANCES,
    assess_month,
    month_total_fen,
    posting_journal,
    rate_schedule,
)
from domain.errors import ValidationFailed
from domain.journal import (
    CLEARING_TAX,
    UnbalancedJournal,
    assert_balanced,
    is_credit_normal,
    reversed_lines,
)
from domain.money import apply_rate
from domain.periods import Period
from domain.policy import PENSION, PolicyTables
from infra.policy_loader import default_policy

POLICY: PolicyTables = default_policy()
PERSON = "0b8f7d1c-3a5e-5f4e-9b0a-2c1d3e4f5a6b"
BASE_FEN = 1_000_000  # 10,000.00 yuan


@st.composite
def months(draw: st.DrawFn) -> tuple[Period, int, int]:
    """A period from 2019-05 to 2026-12, a base within its year's bounds, a risk class."""
    period = Period(draw(st.integers(2019, 2026)), draw(st.integers(1, 12)))
    if period < Period(2019, 5):
        period = Period(2019, 5)
    bounds = POLICY.bounds(period.year)
    base_fen = draw(st.integers(bounds.floor_fen, bounds.cap_fen))
    return period, base_fen, draw(st.integers(1, 8))


def debits_and_credits(journal: Sequence[Sequence[object]]) -> tuple[int, int]:
    return (sum(int(str(line[1])) for line in journal), sum(int(str(line[2])) for line in journal))


def test_a_10000_yuan_base_in_2024_at_risk_class_3_gives_the_published_rates() -> None:
    lines = assess_month(POLICY, Period(2024, 6), BASE_FEN, 3)
    assert lines == [
        # insurance, base, employer, individual, personal account
        ["110", BASE_FEN, 160_000, 80_000, 80_000],  # 16% + 8%, all 8% to the account
        ["210", BASE_FEN, 5_000, 5_000, 0],  # 0.5% + 0.5%
        ["310", BASE_FEN, 60_000, 20_000, 0],  # 6% + 2%
        ["410", BASE_FEN, 7_000, 0, 0],  # class 3: 0.7%, employer only
        ["510", BASE_FEN, 8_000, 0, 0],  # 0.8%, employer only
    ]
    assert month_total_fen(lines) == 345_000


def test_april_2019_is_assessed_at_the_old_20_percent_pension_rate() -> None:
    [april] = assess_month(POLICY, Period(2019, 4), BASE_FEN, 1, [PENSION])
    [may] = assess_month(POLICY, Period(2019, 5), BASE_FEN, 1, [PENSION])
    assert april[2] == 200_000
    assert may[2] == 160_000


def test_a_work_injury_float_scales_the_class_rate() -> None:
    [line] = assess_month(POLICY, Period(2024, 1), BASE_FEN, 3, ["410"], Decimal("1.5"))
    assert line[2] == 10_500  # 0.7% × 150%


def test_a_subset_of_insurances_is_assessed_in_the_order_given() -> None:
    lines = assess_month(POLICY, Period(2024, 1), BASE_FEN, 3, ["310", "110"])
    assert [line[0] for line in lines] == ["310", "110"]


@pytest.mark.parametrize("base_fen", [449_999, 2_250_001, 0])
def test_a_base_outside_the_years_bounds_is_refused(base_fen: int) -> None:
    with pytest.raises(ValidationFailed) as info:
        assess_month(POLICY, Period(2024, 1), base_fen, 3)
    assert (info.value.code, info.value.field) == ("base_out_of_bounds", "base_fen")


def test_the_bounds_themselves_are_inside() -> None:
    bounds = POLICY.bounds(2024)
    assert assess_month(POLICY, Period(2024, 1), bounds.floor_fen, 3)[0][1] == bounds.floor_fen
    assert assess_month(POLICY, Period(2024, 1), bounds.cap_fen, 3)[0][1] == bounds.cap_fen


def test_an_unknown_insurance_is_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        assess_month(POLICY, Period(2024, 1), BASE_FEN, 3, ["110", "999"])
    assert (info.value.code, info.value.field) == ("insurance_unknown", "insurances")


def test_an_insurance_listed_twice_is_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        assess_month(POLICY, Period(2024, 1), BASE_FEN, 3, ["110", "110"])
    assert info.value.code == "insurance_duplicate"


def test_the_posting_journal_debits_clearing_and_credits_funds_and_the_account() -> None:
    journal = posting_journal(PERSON, assess_month(POLICY, Period(2024, 1), BASE_FEN, 3))
    assert journal == [
        [CLEARING_TAX, 345_000, 0],
        ["fund:110", 0, 160_000],
        [f"personal:{PERSON}:110", 0, 80_000],
        ["fund:210", 0, 10_000],
        ["fund:310", 0, 80_000],
        ["fund:410", 0, 7_000],
        ["fund:510", 0, 8_000],
    ]


@given(months())
def test_the_rate_schedule_gives_the_amounts_of_apply_rate(month: tuple[Period, int, int]
                                                           ) -> None:
    period, base_fen, risk_class = month
    for insurance, base, employer, individual, account in assess_month(
            POLICY, period, base_fen, risk_class):
        assert base == base_fen
        if insurance == "410":
            rate = POLICY.work_injury_rate(risk_class, period).rate
            assert (employer, individual, account) == (apply_rate(base_fen, rate), 0, 0)
        else:
            r = POLICY.rate(str(insurance), period)
            assert (employer, individual, account) == (
                apply_rate(base_fen, r.employer_rate), apply_rate(base_fen, r.individual_rate),
                apply_rate(base_fen, r.personal_account_rate))


@given(months())
def test_every_posting_journal_balances_and_conserves_the_money_collected(
        month: tuple[Period, int, int]) -> None:
    period, base_fen, risk_class = month
    lines = assess_month(POLICY, period, base_fen, risk_class)
    journal = posting_journal(PERSON, lines)
    debits, credits = debits_and_credits(journal)
    assert debits == credits
    employer_total = sum(int(str(line[2])) for line in lines)
    individual_total = sum(int(str(line[3])) for line in lines)
    to_funds_and_account = sum(int(str(line[2])) for line in journal
                               if is_credit_normal(str(line[0])))
    assert to_funds_and_account == employer_total + individual_total == month_total_fen(lines)
    account_credit = sum(int(str(line[2])) for line in journal
                         if str(line[0]).startswith("personal:"))
    assert account_credit == sum(int(str(line[4])) for line in lines)


@given(months())
def test_a_reversed_journal_balances_and_cancels_the_original_per_account(
        month: tuple[Period, int, int]) -> None:
    period, base_fen, risk_class = month
    journal = posting_journal(PERSON, assess_month(POLICY, period, base_fen, risk_class))
    reversal = reversed_lines(journal)
    assert_balanced(reversal)
    net: Counter[str] = Counter()
    for account, debit, credit in [*journal, *reversal]:
        net[str(account)] += int(str(debit)) - int(str(credit))
    assert set(net.values()) == {0}


def test_an_unbalanced_journal_is_refused() -> None:
    with pytest.raises(UnbalancedJournal):
        assert_balanced([[CLEARING_TAX, 100, 0], ["fund:110", 0, 99]])
    with pytest.raises(UnbalancedJournal):
        assert_balanced([[CLEARING_TAX, -1, 0], ["fund:110", 0, -1]])
    with pytest.raises(UnbalancedJournal):
        assert_balanced([[CLEARING_TAX, 1.0, 0], ["fund:110", 0, 1]])
    with pytest.raises(UnbalancedJournal):
        assert_balanced([["", 1, 0], ["fund:110", 0, 1]])


def test_the_default_insurances_are_the_five_employee_schemes() -> None:
    schedule = rate_schedule(POLICY, Period(2024, 1), 3)
    assert tuple(item[0] for item in schedule.items) == EMPLOYEE_INSURANCES
