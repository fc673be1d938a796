"""The working-day calendar: weekends and public holidays are off, adjusted weekend days
(调休) are worked, deadlines count working days, and a year not in the calendar is refused."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.working_days import WorkingCalendar
from infra.catalogue_loader import _document, default_calendar

calendar = default_calendar()


def test_national_day_2024_and_its_adjusted_saturday() -> None:
    # Monday 30 Sep + 5 working days: 1-7 Oct off, 8-11 Oct, and Saturday 12 Oct worked
    assert calendar.add_working_days(date(2024, 9, 30), 5) == date(2024, 10, 12)
    assert calendar.is_working_day(date(2024, 9, 29))  # a Sunday worked (调休)
    assert not calendar.is_working_day(date(2024, 10, 7))


def test_spring_festival_2025() -> None:
    assert calendar.add_working_days(date(2025, 1, 24), 3) == date(2025, 2, 5)
    assert not calendar.is_working_day(date(2025, 1, 29))  # 春节
    assert calendar.is_working_day(date(2025, 2, 8))  # a Saturday worked


def test_a_case_opened_on_a_holiday_counts_from_the_next_working_day() -> None:
    assert calendar.add_working_days(date(2025, 10, 3), 0) == date(2025, 10, 9)
    assert calendar.add_working_days(date(2025, 10, 3), 1) == date(2025, 10, 10)


def test_a_year_outside_the_calendar_is_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        calendar.is_working_day(date(2019, 5, 1))
    assert info.value.code == "calendar_year_missing"


@given(start=st.dates(date(2024, 1, 1), date(2025, 11, 30)), n=st.integers(0, 20))
def test_counting_back_gives_the_working_days_added(start: date, n: int) -> None:
    end = calendar.add_working_days(start, n)
    assert calendar.is_working_day(end)
    first = start
    while not calendar.is_working_day(first):
        first += timedelta(days=1)
    assert calendar.working_days_between(first, end) == n


def _mutated(change: Any) -> dict[str, Any]:
    doc = copy.deepcopy(_document("calendar", None))
    change(doc)
    return doc


@pytest.mark.parametrize("change", [
    lambda d: d["year"].append(dict(d["year"][0])),  # a year twice
    lambda d: d["year"][0].update(working_weekend_days=[date(2024, 3, 4)]),  # a Monday
    lambda d: d["year"][0].update(holidays=[date(2023, 1, 2)]),  # another year's date
    lambda d: d["year"][0].pop("source"),
])
def test_a_bad_calendar_file_is_refused_naming_the_entry(change: Any) -> None:
    with pytest.raises(ValueError, match=r"calendar\.toml"):
        WorkingCalendar.from_document(_mutated(change))
