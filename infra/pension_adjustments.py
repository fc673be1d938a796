"""Yearly pension adjustment runs (养老金调整, DOMAIN.md §7): adjust every entitlement once a year.

A run for year Y catches the read models up, finds the region's rule for (province, Y)
(pension_adjustment.toml; infra/pension_adjustment_rules.py) and reads every entitlement whose
retirement date is on or before 31 December Y-1, with its contribution and deemed months
(read model `pension_adjustment_bases`), the person's birth date (`person_facts`), death
(`pension_deaths`), earlier years' increases and the months paid from January Y on. Each one
not dead before January Y gets a `PensionAdjustment.Adjusted` (domain/pension_adjustment.py):
the monthly increase from Y-01, every input, and the arrears (补发) of the months already paid
from Y-01 on, paid at once from the pooled fund. From then on the payment run adds the increase
to the month's payment (infra/pension_payments.py), so each month is paid award + increases in
effect exactly once: before the run by the payment and the arrears, after it by the payment.

Idempotent: the aggregate's id is derived from (entitlement, year), so a second run adjusts
nobody. Do not run an adjustment while a payment run is in progress: a month paid between the
two runs' reads would be paid without the increase and left out of the arrears. Run the years in
order: the reference pension of Y counts the increases of the years before it that are on
record (not checked)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import orjson

from domain.errors import ValidationFailed
from domain.pension_adjustment import (
    AdjustmentRule,
    PensionAdjustment,
    compute_adjustment,
    cutoff_date,
    effective_period,
    reference_period,
    rule_for,
)
from infra.bootstrap import Container
from infra.ledger_service import stamp
from infra.pension_adjustment_rules import AdjustmentRules, default_adjustment_rules
from projections.pension_adjustments import ADJUSTMENTS, BASES
from projections.pension_payments import DEATHS, ENTITLEMENTS, PAYMENTS

SAVE_BATCH_AGGREGATES = 1000
RUN_COMMAND = "adjust_pensions"
FIRST_YEAR = 2006  # the yearly adjustments since 2005 adjust 2006 on (DOMAIN.md §7)

Progress = Callable[[int, int], None]  # (entitlements handled, entitlements to handle)


@dataclass
class AdjustmentRun:
    """What a run did. `adjusted` and the amounts count this run's adjustments only;
    `already_adjusted` those adjusted for the year before it; `skipped_deceased` those whose
    person died before the effective month."""

    year: int
    province_code: str
    effective_period: str
    rule_source: str
    adjusted: int = 0
    already_adjusted: int = 0
    skipped_deceased: int = 0
    monthly_increase_fen: int = 0  # the sum of this run's monthly increases
    arrears_months: int = 0
    arrears_fen: int = 0
    inputs_position: int = 0
    position: int = 0

    @property
    def average_increase_fen(self) -> int:
        return self.monthly_increase_fen // self.adjusted if self.adjusted else 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "average_increase_fen": self.average_increase_fen}


def check_year(year: int, today: date) -> int:
    if not FIRST_YEAR <= year <= today.year:
        raise ValidationFailed(
            "adjustment_year_out_of_range",
            f"year {year}: adjust a year from {FIRST_YEAR} to the current year ({today.year})",
            field="year")
    return year


def _birth_dates(c: Container) -> dict[str, str]:
    """Person → birth date, for the persons with an entitlement."""
    births: dict[str, str] = {}
    for person_id, data in c.views.query(
            "SELECT f.person_id, f.data FROM person_facts f WHERE f.kind = 'registered' AND"
            f" f.person_id IN (SELECT person_id FROM {ENTITLEMENTS})"):
        births[str(person_id)] = orjson.loads(data)["birth_date"]
    return births


def adjust_pensions(c: Container, year: int, *, today: date | None = None,
                    actor: str | None = None, rules: AdjustmentRules | None = None,
                    progress: Progress | None = None) -> AdjustmentRun:
    """Adjust every entitlement retired by 31 December of the previous year for `year`, once.
    `rules`: the rule table (default: the shipped one); `actor`: the staff user the events
    name."""
    check_year(year, today or date.today())
    rule = rule_for(default_adjustment_rules() if rules is None else rules,
                    c.settings.region_code, year)
    effective = effective_period(year)
    inputs_position = c.runner.catch_up()
    run = AdjustmentRun(year, rule.province_code, effective, rule.source,
                        inputs_position=inputs_position, position=inputs_position)
    meta = {"actor": actor, "case_id": None, "command": RUN_COMMAND} if actor else None
    births = _birth_dates(c)
    earlier: dict[str, int] = {str(e): int(s) for e, s in c.views.query(
        f"SELECT entitlement_id, SUM(delta_fen) FROM {ADJUSTMENTS} WHERE effective_period <= ?"
        " GROUP BY entitlement_id", (reference_period(year),))}
    paid: dict[str, list[str]] = {}
    for entitlement_id, period in c.views.query(
            f"SELECT entitlement_id, period FROM {PAYMENTS} WHERE period >= ?"
            " ORDER BY entitlement_id, period", (effective,)):
        paid.setdefault(str(entitlement_id), []).append(str(period))
    rows = c.views.query(
        "SELECT e.entitlement_id, e.person_id, b.contribution_months, b.deemed_months,"
        f" b.monthly_fen, d.date_of_death FROM {ENTITLEMENTS} e"
        f" JOIN {BASES} b ON b.entitlement_id = e.entitlement_id"
        f" LEFT JOIN {DEATHS} d ON d.person_id = e.person_id"
        " WHERE e.retirement_date <= ? ORDER BY e.entitlement_id",
        (cutoff_date(year).isoformat(),))
    total = len(rows)
    if progress:
        progress(0, total)
    pending: list[PensionAdjustment] = []
    handled = 0

    def flush() -> None:
        nonlocal handled
        if pending:
            existing = c.store.existing(a.id for a in pending)
            fresh = [a for a in pending if a.id not in existing]
            run.already_adjusted += len(pending) - len(fresh)
            if fresh:
                if meta is not None:
                    stamp(fresh, meta)
                recordings = c.store.app.save(*fresh)
                run.position = max(run.position, max(r.notification.id for r in recordings))
                for a in fresh:
                    run.adjusted += 1
                    run.monthly_increase_fen += a.delta_fen
                    run.arrears_fen += a.arrears_fen
                    run.arrears_months += a.arrears_months
            handled += len(pending)
            pending.clear()
        if progress:
            progress(handled, total)

    for entitlement_id, person_id, months, deemed, monthly, died_on in rows:
        entitlement_id, person_id = str(entitlement_id), str(person_id)
        if died_on is not None and str(died_on)[:7] < effective:
            run.skipped_deceased += 1
            handled += 1
            continue
        pending.append(_adjustment(rule, entitlement_id, person_id, int(months), int(deemed),
                                   int(monthly) + earlier.get(entitlement_id, 0),
                                   births[person_id], paid.get(entitlement_id, []),
                                   inputs_position))
        if len(pending) >= SAVE_BATCH_AGGREGATES:
            flush()
    flush()
    return run


def _adjustment(rule: AdjustmentRule, entitlement_id: str, person_id: str, months: int,
                deemed: int, reference_pension_fen: int, birth_date: str,
                paid_periods: list[str], inputs_position: int) -> PensionAdjustment:
    adjustment = compute_adjustment(rule, months, deemed, reference_pension_fen,
                                    date.fromisoformat(birth_date))
    return PensionAdjustment.adjust(person_id, entitlement_id, rule, adjustment, months, deemed,
                                    birth_date, paid_periods, inputs_position)
