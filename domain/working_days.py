"""Working-day calendar (工作日): Monday to Friday, less public holidays (法定节假日), plus the
weekend days that are made working days (调休上班), per the State Council's yearly notice.
Deadlines of time-limited business (办理时限) count working days. A date in a year the calendar
does not cover is refused: a deadline computed without the holidays would be wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from domain.errors import ValidationFailed

SATURDAY = 5


@dataclass(frozen=True)
class WorkingCalendar:
    years: frozenset[int]
    holidays: frozenset[date]
    adjusted_working_days: frozenset[date]  # weekend days worked (调休)

    @classmethod
    def from_document(cls, doc: dict[str, Any], file: str = "calendar.toml") -> WorkingCalendar:
        """Build from the parsed data file; raises ValueError naming the entry at fault."""
        entries = doc.get("year")
        if not isinstance(entries, list) or not entries:
            raise ValueError(f"{file}: expected [[year]] entries")
        years: set[int] = set()
        holidays: set[date] = set()
        adjusted: set[date] = set()
        for i, entry in enumerate(entries):
            where = f"{file} year[{i}]"
            year = entry.get("year")
            if not isinstance(year, int) or isinstance(year, bool):
                raise ValueError(f"{where}: `year` must be a whole number")
            if year in years:
                raise ValueError(f"{where}: year {year} is given twice; keep one entry")
            if not isinstance(entry.get("source"), str) or not entry["source"].strip():
                raise ValueError(f"{where}: every year needs a `source` (the notice)")
            years.add(year)
            for key, into, weekend in (("holidays", holidays, None),
                                       ("working_weekend_days", adjusted, True)):
                days = entry.get(key, [])
                if not isinstance(days, list):
                    raise ValueError(f"{where}: `{key}` must be a list of dates")
                for day in days:
                    if not isinstance(day, date) or day.year != year:
                        raise ValueError(f"{where}: `{key}` holds {day!r}, not a date of {year}")
                    if weekend and day.weekday() < SATURDAY:
                        raise ValueError(f"{where}: {day} is a weekday; only a weekend day can"
                                         " be made a working day")
                    into.add(day)
        if holidays & adjusted:
            raise ValueError(f"{file}: {sorted(holidays & adjusted)[0]} is both a holiday and a "
                             "working day")
        return cls(frozenset(years), frozenset(holidays), frozenset(adjusted))

    def _covered(self, day: date) -> None:
        if day.year not in self.years:
            raise ValidationFailed(
                "calendar_year_missing",
                f"the working-day calendar has no year {day.year}; add that year's public "
                "holidays to domain/catalogue_data/calendar.toml",
                field="date",
            )

    def is_working_day(self, day: date) -> bool:
        self._covered(day)
        if day in self.adjusted_working_days:
            return True
        return day.weekday() < SATURDAY and day not in self.holidays

    def add_working_days(self, start: date, working_days: int) -> date:
        """The day `working_days` working days after `start` (0: `start` itself if it is a
        working day, else the next one). A case opened on a holiday starts counting next
        working day."""
        day = start
        while not self.is_working_day(day):
            day += timedelta(days=1)
        remaining = working_days
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end ≤ start)."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count
