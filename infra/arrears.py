"""Arrears (欠费): months that were assessed — the person was employed by the employer in the
period and has a base declared for its year — but are not posted (or were reversed and not
posted again) after their due date; per employer, with the late fee (滞纳金) as of a day.

Computed on demand from the read models (employments, person_bases, contribution_history), so
it is as of the projections' position; the assessment uses the same rate schedule as posting."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from domain import ids
from domain.assessment import EMPLOYEE_INSURANCES, RateSchedule, rate_schedule
from domain.late_fee import late_fee
from domain.periods import Period, parse_period
from domain.registration import Employer
from infra.bootstrap import Container
from projections.accounts import period_end


@dataclass(frozen=True)
class ArrearsItem:
    employer_code: str
    person_id: str
    period: str
    base_fen: int
    employer_fen: int
    individual_fen: int

    @property
    def total_fen(self) -> int:
        return self.employer_fen + self.individual_fen


@dataclass
class EmployerArrears:
    employer_code: str
    persons: int = 0
    employer_fen: int = 0
    individual_fen: int = 0
    late_fee_fen: int = 0
    days_late: int = 0

    @property
    def total_fen(self) -> int:
        return self.employer_fen + self.individual_fen


@dataclass
class ArrearsReport:
    period: str
    due_date: date
    as_of: date
    position: int
    employers: dict[str, EmployerArrears] = field(default_factory=dict)

    @property
    def due(self) -> bool:
        return self.as_of > self.due_date

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period, "due_date": self.due_date.isoformat(),
            "as_of": self.as_of.isoformat(), "due": self.due, "position": self.position,
            "arrears_fen": sum(e.total_fen for e in self.employers.values()),
            "late_fee_fen": sum(e.late_fee_fen for e in self.employers.values()),
            "employers": [
                {"employer_code": e.employer_code, "persons": e.persons,
                 "employer_fen": e.employer_fen, "individual_fen": e.individual_fen,
                 "arrears_fen": e.total_fen, "days_late": e.days_late,
                 "late_fee_fen": e.late_fee_fen}
                for e in sorted(self.employers.values(), key=lambda x: -x.total_fen)],
        }


def arrears(c: Container, period_text: str, as_of: date) -> tuple[ArrearsReport,
                                                                  list[ArrearsItem]]:
    """Arrears of one period as of a day: per employer (with late fee) and per person."""
    period = parse_period(period_text)
    position = c.runner.catch_up()
    report = ArrearsReport(str(period), c.policy.due_date(period), as_of, position)
    items = list(_unpaid_months(c, period))
    if not report.due:
        return report, items
    for item in items:
        per = report.employers.setdefault(item.employer_code,
                                          EmployerArrears(item.employer_code))
        per.persons += 1
        per.employer_fen += item.employer_fen
        per.individual_fen += item.individual_fen
    for per in report.employers.values():
        # The employer bears the whole fee, on all it failed to pay (DOMAIN.md §6).
        fee = late_fee(c.policy, per.total_fen, report.due_date, as_of)
        per.late_fee_fen, per.days_late = fee.fee_fen, fee.days_late
    return report, items


def _unpaid_months(c: Container, period: Period) -> Iterator[ArrearsItem]:
    p = str(period)
    posted = {
        str(person_id) for person_id, net in c.views.query(
            "SELECT person_id, SUM(CASE WHEN kind = 'posted' THEN 1 ELSE -1 END)"
            " FROM contribution_history WHERE period = ? GROUP BY person_id", (p,))
        if int(net) > 0
    }
    for person_id, employer_code, base_fen, lines in assessed_months(c, period):
        if person_id in posted:
            continue
        yield ArrearsItem(employer_code, person_id, p, base_fen,
                          sum(int(line[2]) for line in lines),
                          sum(int(line[3]) for line in lines))


def assessed_months(c: Container, period: Period
                    ) -> Iterator[tuple[str, str, int, list[list[Any]]]]:
    """What the bureau assesses (应收) for a period, from the read models: every person employed
    in it with a base declared for its year, at the employer's rates then, as (person id,
    employer code, base fen, lines)."""
    p = str(period)
    first_day, last_day = f"{p}-01", period_end(p)
    schedules: dict[tuple[str, int], RateSchedule] = {}
    employers: dict[str, Employer] = {}
    region = c.settings.region_code
    sql = ("SELECT e.person_id, e.employer_code, b.base_fen FROM employments e"
           " JOIN person_bases b ON b.person_id = e.person_id AND b.year = ?"
           " WHERE e.start_date <= ? AND e.end_date >= ? ORDER BY e.employer_code, e.person_id")
    with c.views.stream(sql, (period.year, last_day, first_day)) as rows:
        for person_id, employer_code, base_fen in rows:
            employer = employers.get(employer_code)
            if employer is None:
                employer = c.store.app.repository.get(ids.employer_id(region, employer_code))
                employers[employer_code] = employer
            risk_class = employer.risk_class_on(p)
            schedule = schedules.get((employer_code, risk_class))
            if schedule is None:
                schedule = rate_schedule(c.policy, period, risk_class, EMPLOYEE_INSURANCES,
                                         Decimal(employer.work_injury_float))
                schedules[(employer_code, risk_class)] = schedule
            yield str(person_id), str(employer_code), int(base_fen), schedule.assess(int(base_fen))
