"""Yearly interest on the personal pension account by the monthly-积数 method (DOMAIN.md §3.3)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.interest import compute_year_interest, interest_journal
from domain.journal import assert_balanced
from domain.money import round_fen

credits_12 = st.lists(st.integers(0, 2_000_000), min_size=12, max_size=12).map(tuple)
rates = st.decimals(min_value=0, max_value=Decimal("0.1"), places=4)
openings = st.integers(0, 10**10)


def test_the_domain_worked_example_closes_at_113776_44_yuan() -> None:
    result = compute_year_interest(2023, Decimal("0.0397"), 10_000_000, (80_000,) * 12)
    assert result.prior_interest_fen == 397_000  # 3,970.00 on the opening 100,000.00
    assert result.current_interest_fen == 20_644  # 62,400 × 0.0397 / 12 = 206.44
    assert result.credited_fen == 960_000
    assert result.interest_fen == 417_644
    assert result.closing_fen == 11_377_644  # 113,776.44 yuan


def test_a_january_credit_earns_twelve_months_and_a_december_credit_one() -> None:
    january = compute_year_interest(2023, Decimal("0.12"), 0, (100_000,) + (0,) * 11)
    december = compute_year_interest(2023, Decimal("0.12"), 0, (0,) * 11 + (100_000,))
    assert january.current_interest_fen == 12_000  # 100,000 × 12 × 0.12 / 12
    assert december.current_interest_fen == 1_000  # 100,000 × 1 × 0.12 / 12


@given(openings, credits_12, rates)
def test_closing_is_opening_plus_interest_plus_credits(opening: int, credits: tuple[int, ...],
                                                       rate: Decimal) -> None:
    result = compute_year_interest(2023, rate, opening, credits)
    assert result.closing_fen == (opening + result.prior_interest_fen + sum(credits)
                                  + result.current_interest_fen)
    assert result.prior_interest_fen == round_fen(Decimal(opening) * rate)
    accumulation = sum(c * (13 - n) for n, c in enumerate(credits, 1))
    assert result.current_interest_fen == round_fen(Decimal(accumulation) * rate / 12)


@given(openings, credits_12)
def test_a_zero_rate_adds_only_the_credits(opening: int, credits: tuple[int, ...]) -> None:
    result = compute_year_interest(2023, Decimal(0), opening, credits)
    assert result.interest_fen == 0
    assert result.closing_fen == opening + sum(credits)


@given(openings, credits_12, rates)
def test_the_interest_journal_balances(opening: int, credits: tuple[int, ...],
                                       rate: Decimal) -> None:
    result = compute_year_interest(2023, rate, opening, credits)
    journal = interest_journal("p", result.interest_fen)
    assert_balanced(journal)
    assert journal == [["fund:110", result.interest_fen, 0], ["personal:p:110", 0,
                                                              result.interest_fen]]


@pytest.mark.parametrize("months", [0, 11, 13])
def test_credits_must_cover_exactly_twelve_months(months: int) -> None:
    with pytest.raises(ValidationFailed) as info:
        compute_year_interest(2023, Decimal("0.0397"), 0, (1,) * months)
    assert info.value.code == "interest_months"
