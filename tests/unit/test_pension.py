"""The basic pension formula (DOMAIN.md §4.4's worked example), the divisor table, the index
and the minimum contribution years."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.errors import ValidationFailed
from domain.pension import (
    DIVISOR_BY_AGE,
    age_on,
    average_index,
    compute_pension,
    first_payment_period,
)


def test_domain_worked_example_is_4950_96_a_month() -> None:
    # P 8,000; Ī 1.2; 30 actual + 5 deemed years; account 180,000 at 60; coefficient 1.2%
    award = compute_pension(800_000, Decimal("1.2"), 30 * 12, 5 * 12, 18_000_000, 60,
                            Decimal("0.012"))
    assert (award.basic_fen, award.account_fen, award.transitional_fen) == (
        308_000, 129_496, 57_600)
    assert award.monthly_fen == 495_096


def test_divisor_anchors() -> None:
    assert (DIVISOR_BY_AGE[50], DIVISOR_BY_AGE[55], DIVISOR_BY_AGE[60], DIVISOR_BY_AGE[70]) == (
        195, 170, 139, 56)


def test_fewer_than_15_years_is_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        compute_pension(800_000, Decimal(1), 14 * 12, 11, 0, 60, Decimal("0.012"))
    assert info.value.code == "contribution_years_short"


def test_index_is_the_mean_of_clamped_monthly_indexes() -> None:
    assert average_index([(600_000, 500_000), (400_000, 500_000)]) == Decimal("1.0000")
    assert average_index([(2_000_000, 500_000)]) == Decimal("3.0000")  # clamped
    assert average_index([]) == Decimal(0)


def test_age_and_first_payment() -> None:
    assert age_on(date(1965, 3, 15), date(2025, 3, 14)) == 59
    assert age_on(date(1965, 3, 15), date(2025, 3, 15)) == 60
    assert first_payment_period(date(2025, 12, 31)) == "2026-01"
