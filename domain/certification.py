"""Benefit-eligibility certification (待遇资格认证, DOMAIN.md §8): a pensioner is certified by
data matching (数据比对: civil affairs, public security, hospitals, transport) or by
self-service face recognition (自助认证), at least once per rolling `period_days` (365 ◐).

The rule (◐, policy file domain/policy_data/certification.toml): the first deadline is
`period_days` after the retirement date (the award checked the person), each later one
`period_days` after the last certification. A deadline passed without a certification
suspends payment (暂停) from the month after the deadline's month; a later certification
resumes it from the month after its own month, and — if the policy says back pay — the
suspended months (from the first suspended one to the certification's month) are paid back
by the next payment run.

One `Certification` aggregate per person and day, with a deterministic id: recording the same
day twice finds the first. Pure: the dates and the policy are given by the caller."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import fast_uuid5

DATA_MATCH = "data_match"  # 数据比对认证
SELF_SERVICE = "self_service"  # 自助认证 (face recognition)
METHODS_ZH = {DATA_MATCH: "数据比对", SELF_SERVICE: "自助认证"}
# Where a certification comes from, by method (来源).
SOURCES_ZH = {
    DATA_MATCH: {"civil_affairs": "民政", "public_security": "公安", "hospital": "医院",
                 "transport": "交通"},
    SELF_SERVICE: {"face_recognition": "人脸识别"},
}


@dataclass(frozen=True, slots=True)
class CertificationRule:
    """How often a pensioner must be certified and what a late certification brings back."""

    period_days: int
    back_pay: bool  # the suspended months are paid back on resumption
    source: str

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> CertificationRule:
        """From certification.toml's [certification] table; a bad value names the key."""
        table = doc.get("certification")
        if not isinstance(table, dict):
            raise ValueError("certification.toml: expected a [certification] table")
        period_days = table.get("period_days")
        if type(period_days) is not int or not 1 <= period_days <= 3660:
            raise ValueError("certification.toml [certification] period_days: expected an "
                             f"integer 1..3660, got {period_days!r}")
        back_pay = table.get("back_pay")
        if type(back_pay) is not bool:
            raise ValueError("certification.toml [certification] back_pay: expected true or "
                             f"false, got {back_pay!r}")
        source = table.get("source")
        if not isinstance(source, str) or not source.strip():
            raise ValueError("certification.toml [certification] source: expected the "
                             "policy's source text")
        return cls(period_days, back_pay, source)


@dataclass(frozen=True, slots=True)
class Suspension:
    """A run of suspended months: from `first_period` to `last_period` (the month of the
    certification that resumed payment), or still open (`resumed_on` None)."""

    deadline: date  # the deadline that passed
    first_period: str
    last_period: str | None
    resumed_on: date | None


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _month_after(day: date) -> str:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return f"{year:04d}-{month:02d}"


def months_between(first_period: str, last_period: str) -> list[str]:
    """The months first..last (YYYY-MM), both included."""
    year, month = int(first_period[:4]), int(first_period[5:])
    found = []
    while (text := f"{year:04d}-{month:02d}") <= last_period:
        found.append(text)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def suspensions(retired_on: date, certified_on: Iterable[date], period_days: int
                ) -> list[Suspension]:
    """Every suspension of a pensioner retired on `retired_on` with these certifications,
    the last one open if its deadline has passed by the month after it (whether that month
    has come is for the caller: a payment run asks about a month that has begun)."""
    found: list[Suspension] = []
    last = retired_on
    for day in sorted(set(certified_on)):
        if day <= last:
            continue  # before the retirement: the award's check covers it
        deadline = last + timedelta(days=period_days)
        if day > deadline and _month_after(deadline) <= _month(day):
            found.append(Suspension(deadline, _month_after(deadline), _month(day), day))
        last = day
    deadline = last + timedelta(days=period_days)
    found.append(Suspension(deadline, _month_after(deadline), None, None))
    return found


def deadline_on(retired_on: date, certified_on: Iterable[date], as_of: date,
                period_days: int) -> date:
    """The deadline in force on `as_of`: `period_days` after the last certification on or
    before it (or after the retirement)."""
    last = max((d for d in certified_on if retired_on < d <= as_of), default=retired_on)
    return last + timedelta(days=period_days)


def is_suspended(period: str, found: Iterable[Suspension]) -> bool:
    """Whether `period` falls in a suspension: unpaid in its own run (a closed suspension's
    months are paid back later, if the policy says so)."""
    return any(s.first_period <= period and (s.last_period is None or period <= s.last_period)
               for s in found)


def back_pay_periods(found: Iterable[Suspension], period: str, back_pay: bool) -> list[str]:
    """The suspended months a run for `period` pays back: those of each suspension resumed
    by a certification in an earlier month (payment resumes from the month after it)."""
    if not back_pay:
        return []
    months: list[str] = []
    for s in found:
        if s.last_period is not None and s.last_period < period:
            months.extend(months_between(s.first_period, s.last_period))
    return months


class Certification(Aggregate):
    """One certification of a pensioner on one day; keyed by (person, day)."""

    @staticmethod
    def create_id(person_id: str, certified_on: str) -> UUID:
        return fast_uuid5(UUID(person_id), f"certification/{certified_on}")

    @event("Recorded")
    def __init__(self, person_id: str, certified_on: str, method: str, source: str) -> None:
        self.person_id = person_id
        self.certified_on = certified_on
        self.method = method
        self.source = source


# -- the year's figures (annual report, 年度报告) ------------------------------------------------

@dataclass(frozen=True, slots=True)
class PensionerRow:
    person_id: str
    retirement_date: str
    date_of_death: str | None


@dataclass(frozen=True, slots=True)
class CertificationRow:
    person_id: str
    certified_on: str
    method: str


def year_counts(year: int, pensioners: Iterable[PensionerRow],
                certifications: Iterable[CertificationRow], period_days: int
                ) -> dict[str, Any]:
    """The year's certifications (by the day certified) and by method; the persons certified;
    the pensioners overdue at the year's end (alive, deadline before 31 December) and those
    suspended for December; and the suspensions a certification of the year ended
    (resumed)."""
    year_end = date(year, 12, 31)
    by_person: dict[str, list[date]] = {}
    by_method = dict.fromkeys(METHODS_ZH, 0)
    certified: set[str] = set()
    for row in certifications:
        day = date.fromisoformat(row.certified_on)
        if day <= year_end:
            by_person.setdefault(row.person_id, []).append(day)
        if day.year == year:
            by_method[row.method] = by_method.get(row.method, 0) + 1
            certified.add(row.person_id)
    overdue = suspended = resumed = 0
    for p in pensioners:
        retired_on = date.fromisoformat(p.retirement_date)
        if retired_on > year_end:
            continue
        days = by_person.get(p.person_id, [])
        found = suspensions(retired_on, days, period_days)
        resumed += sum(s.resumed_on is not None and s.resumed_on.year == year for s in found)
        if p.date_of_death is not None and p.date_of_death <= year_end.isoformat():
            continue
        overdue += deadline_on(retired_on, days, year_end, period_days) < year_end
        suspended += is_suspended(f"{year:04d}-12", found)
    return {"certifications": sum(by_method.values()), "persons_certified": len(certified),
            "by_method": by_method, "overdue_at_year_end": overdue,
            "suspended_at_year_end": suspended, "resumed": resumed}
