"""Late fee: 0.05% of the arrears per day late, at most the arrears (DOMAIN.md §6)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.late_fee import late_fee
from infra.policy_loader import default_policy

POLICY = default_policy()


def test_domain_example_10000_yuan_45_days_is_225_yuan() -> None:
    fee = late_fee(POLICY, 1_000_000, date(2024, 3, 1), date(2024, 3, 1) + timedelta(days=45))
    assert fee.days_late == 45
    assert fee.fee_fen == 22_500
    assert not fee.capped


def test_the_fee_never_exceeds_the_arrears() -> None:
    fee = late_fee(POLICY, 1_000_000, date(2015, 1, 1), date(2024, 1, 1))  # 3,287 days: 164%
    assert fee.fee_fen == 1_000_000
    assert fee.capped


def test_paying_on_the_due_date_costs_nothing() -> None:
    assert late_fee(POLICY, 123_456, date(2024, 5, 15), date(2024, 5, 15)).fee_fen == 0


def test_a_payment_before_the_due_date_is_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        late_fee(POLICY, 100, date(2024, 5, 15), date(2024, 5, 14))
    assert info.value.code == "paid_before_due"


def test_no_rate_before_the_social_insurance_law_took_effect() -> None:
    with pytest.raises(ValidationFailed) as info:
        late_fee(POLICY, 100, date(2010, 1, 1), date(2010, 2, 1))
    assert info.value.code == "policy_late_fee_rate_missing"


@given(arrears_fen=st.integers(0, 10**10), days=st.integers(0, 5000))
def test_the_fee_is_the_rounded_daily_rate_capped_at_the_arrears(arrears_fen: int,
                                                                 days: int) -> None:
    due = date(2016, 1, 1)
    fee = late_fee(POLICY, arrears_fen, due, due + timedelta(days=days))
    # arrears × 5/10,000 × days, half up, in exact integer arithmetic
    half_up_fen = (2 * arrears_fen * 5 * days + 10_000) // 20_000
    assert fee.fee_fen == min(arrears_fen, half_up_fen)
