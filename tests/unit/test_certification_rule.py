"""The certification rule (待遇资格认证, DOMAIN.md §8 ◐): deadlines a period after the
retirement or the last certification, suspension from the month after a missed deadline's
month, resumption from the month after the certification's, and the months paid back."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.annual_report import build_annual_report
from domain.certification import (
    CertificationRow,
    CertificationRule,
    PensionerRow,
    Suspension,
    back_pay_periods,
    deadline_on,
    is_suspended,
    months_between,
    suspensions,
    year_counts,
)
from infra.certification_service import load_certification_rule

RETIRED = date(2023, 12, 31)  # first deadline 2024-12-30: suspended from 2025-01


def test_the_shipped_rule_is_a_rolling_year_with_back_pay() -> None:
    rule = load_certification_rule()
    assert (rule.period_days, rule.back_pay) == (365, True)
    assert "◐" in rule.source


@pytest.mark.parametrize(("table", "key"), [
    ({"period_days": 0, "back_pay": True, "source": "x"}, "period_days"),
    ({"period_days": "365", "back_pay": True, "source": "x"}, "period_days"),
    ({"period_days": 365, "back_pay": "yes", "source": "x"}, "back_pay"),
    ({"period_days": 365, "back_pay": True, "source": " "}, "source"),
])
def test_a_bad_rule_names_its_key(table: dict[str, object], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        CertificationRule.from_document({"certification": table})


def test_no_certification_suspends_from_the_month_after_the_first_deadline() -> None:
    [open_one] = suspensions(RETIRED, [], 365)
    assert open_one == Suspension(date(2024, 12, 30), "2025-01", None, None)
    assert not is_suspended("2024-12", [open_one])
    assert is_suspended("2025-01", [open_one]) and is_suspended("2026-07", [open_one])


def test_a_certification_in_time_moves_the_deadline_a_period_on() -> None:
    found = suspensions(RETIRED, [date(2024, 11, 3)], 365)
    assert found == [Suspension(date(2025, 11, 3), "2025-12", None, None)]
    assert not is_suspended("2025-11", found)
    assert deadline_on(RETIRED, [date(2024, 11, 3)], date(2024, 11, 2), 365) == date(
        2024, 12, 30)  # not yet certified on that day
    assert deadline_on(RETIRED, [date(2024, 11, 3)], date(2024, 11, 3), 365) == date(
        2025, 11, 3)


def test_a_late_certification_ends_the_suspension_with_its_own_month() -> None:
    found = suspensions(RETIRED, [date(2025, 4, 10)], 365)
    assert found == [Suspension(date(2024, 12, 30), "2025-01", "2025-04", date(2025, 4, 10)),
                     Suspension(date(2026, 4, 10), "2026-05", None, None)]
    assert [is_suspended(p, found) for p in ("2024-12", "2025-01", "2025-04", "2025-05")] == [
        False, True, True, False]
    # Resumed from 2025-05: that run pays back 2025-01..04; an earlier one nothing.
    assert back_pay_periods(found, "2025-04", True) == []
    assert back_pay_periods(found, "2025-05", True) == ["2025-01", "2025-02", "2025-03",
                                                         "2025-04"]
    assert back_pay_periods(found, "2025-05", False) == []


def test_late_in_the_deadlines_own_month_suspends_nothing() -> None:
    found = suspensions(RETIRED, [date(2024, 12, 31)], 365)  # a day late, same month
    assert found == [Suspension(date(2025, 12, 31), "2026-01", None, None)]


def test_certifications_before_retirement_or_on_one_day_twice_count_once() -> None:
    assert suspensions(RETIRED, [date(2023, 6, 1), date(2024, 5, 1), date(2024, 5, 1)],
                       365) == suspensions(RETIRED, [date(2024, 5, 1)], 365)


def test_months_between_crosses_the_year() -> None:
    assert months_between("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert months_between("2025-02", "2025-01") == []


@given(st.lists(st.integers(min_value=1, max_value=2000), max_size=6),
       st.booleans())
def test_with_back_pay_every_month_is_paid_once_and_without_it_only_unsuspended_ones(
        offsets: list[int], back_pay: bool) -> None:
    """Over 2024-01..2030-12, each month is paid in its own run unless suspended, or paid back
    in a later run: with back pay every month up to the last resumption is paid exactly once."""
    days = [RETIRED + timedelta(days=n) for n in offsets]
    found = suspensions(RETIRED, days, 365)
    months = months_between("2024-01", "2030-12")
    paid: list[str] = []
    for period in months:
        if not is_suspended(period, found):
            paid.append(period)
        paid.extend(m for m in back_pay_periods(found, period, back_pay) if m not in paid)
    assert len(paid) == len(set(paid))
    suspended = {m for m in months if is_suspended(m, found)}
    open_months = {m for m in suspended
                   if any(s.last_period is None and m >= s.first_period for s in found)}
    if back_pay:
        resumed_late = {m for s in found if s.last_period is not None and
                        s.last_period >= "2030-12" for m in months_between(
                            s.first_period, s.last_period)}
        assert set(paid) == set(months) - open_months - resumed_late
    else:
        assert set(paid) == set(months) - suspended


def test_the_years_counts_by_method_overdue_suspended_and_resumed() -> None:
    pensioners = [
        PensionerRow("a", "2023-12-31", None),  # never certified: suspended from 2025-01
        PensionerRow("b", "2023-12-31", None),  # certified 2024-11: in time, and again 2025-10
        PensionerRow("c", "2023-12-31", None),  # late 2025-03-02: resumed in 2025
        PensionerRow("d", "2023-12-31", "2025-06-01"),  # dead: neither overdue nor suspended
        PensionerRow("e", "2025-01-15", None),  # retired in 2025: due 2026-01-15
        PensionerRow("f", "2024-12-20", None),  # due 2025-12-20: overdue, not yet suspended
        PensionerRow("g", "2026-02-01", None),  # retires after the year
    ]
    certifications = [
        CertificationRow("b", "2024-11-01", "data_match"),
        CertificationRow("b", "2025-10-20", "self_service"),
        CertificationRow("c", "2025-03-02", "data_match"),
        CertificationRow("c", "2026-01-05", "data_match"),  # after the year: not counted
    ]
    assert year_counts(2025, pensioners, certifications, 365) == {
        "certifications": 2, "persons_certified": 2,
        "by_method": {"data_match": 1, "self_service": 1},
        "overdue_at_year_end": 2, "suspended_at_year_end": 1, "resumed": 1}
    assert year_counts(2024, pensioners, certifications, 365)["by_method"] == {
        "data_match": 1, "self_service": 0}


def test_the_annual_report_shows_the_certification_counts() -> None:
    from tests.unit.test_annual_report_builder import inputs

    report = build_annual_report(inputs(
        pensioners=[PensionerRow("a", "2022-06-30", None)],
        certifications=[CertificationRow("a", "2024-03-01", "self_service")]))
    assert report["certification"] == {
        "certifications": 1, "persons_certified": 1,
        "by_method": {"data_match": 0, "self_service": 1},
        "overdue_at_year_end": 0, "suspended_at_year_end": 0, "resumed": 1}
