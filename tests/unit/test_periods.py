"""The period a contribution belongs to (费款所属期): YYYY-MM within the supported years."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.periods import PERIOD_YEAR_MAX, PERIOD_YEAR_MIN, Period, parse_period


def test_a_valid_period_parses_and_prints_back() -> None:
    period = parse_period("2024-01")
    assert period == Period(2024, 1)
    assert str(period) == "2024-01"
    assert str(parse_period(" 2023-12 ")) == "2023-12"


@pytest.mark.parametrize("text", ["2024-13", "2024-00", f"{PERIOD_YEAR_MIN - 1}-12",
                                  f"{PERIOD_YEAR_MAX + 1}-01", "0000-01"])
def test_a_month_out_of_range_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_period(text, "period")
    assert (info.value.code, info.value.field) == ("period_out_of_range", "period")


@pytest.mark.parametrize("text", ["24-01", "2024-1", "2024/01", "202401", "2024-01-01", "",
                                  "January 2024", "2024-001"])
def test_a_malformed_period_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_period(text, "due_period")
    assert (info.value.code, info.value.field) == ("period_malformed", "due_period")


def test_a_period_that_is_not_text_is_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_period(202401)  # type: ignore[arg-type]
    assert info.value.code == "period_malformed"


def test_periods_order_and_step_by_month() -> None:
    assert Period(2023, 12) < Period(2024, 1)
    assert Period(2023, 12).next() == Period(2024, 1)
    assert Period(2024, 1).next() == Period(2024, 2)
    assert Period(2024, 3).index - Period(2023, 3).index == 12


@given(st.integers(PERIOD_YEAR_MIN, PERIOD_YEAR_MAX), st.integers(1, 12))
def test_every_month_in_range_round_trips(year: int, month: int) -> None:
    text = f"{year:04d}-{month:02d}"
    assert str(parse_period(text)) == text
