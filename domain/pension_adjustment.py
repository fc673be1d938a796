"""Yearly pension adjustment (养老金调整, DOMAIN.md §7): the rule, keyed by province and year,
and the `PensionAdjustment` aggregate that records one entitlement's adjustment of one year.

    delta = fixed
          + per full contribution year (actual + deemed months // 12) × years
          + percent × the reference month's pension (December of the previous year)
          + age tilt: at age ≥ tilt_age by the cut-off (31 December of the previous year),
            tilt_base + tilt_per_year × years over tilt_age, a part year counting whole

Each part is rounded to the fen once (only the percent part can have a fraction). Who is
adjusted: every entitlement whose retirement date is on or before the cut-off, unless the person
died before the effective month (January of the year). The adjustment is retroactive to
January: months already paid from January on are paid the difference as arrears (补发) in the
same event, from the pooled fund (Dr `fund:110`, Cr `bank:payout`). Pure: the inputs are given
by the caller (infra/pension_adjustments.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import ValidationFailed
from domain.ids import fast_uuid5
from domain.journal import BANK_PAYOUT, JournalLine, assert_balanced, pooled_fund
from domain.money import round_fen
from domain.pension import age_on
from domain.policy import PENSION

FEN_PER_YUAN = 100


@dataclass(frozen=True)
class AdjustmentRule:
    """One province's adjustment scheme for one year (amounts in fen per month)."""

    province_code: str  # the first two digits of a region code (45: 广西)
    year: int
    fixed_fen: int  # 定额调整
    per_full_year_fen: int  # 挂钩调整, per full contribution year (deemed years included)
    percent_of_pension: Decimal  # 挂钩调整, of the reference month's pension (0.012 = 1.2%)
    tilt_age: int  # 适当倾斜: from this age at the cut-off
    tilt_base_fen: int
    tilt_per_year_fen: int  # per year over tilt_age, a part year counting whole
    source: str


@dataclass(frozen=True)
class Adjustment:
    """One entitlement's adjustment: its parts and the inputs that decided them."""

    full_years: int
    reference_pension_fen: int
    age_years: int  # at the cut-off
    years_over_tilt_age: int  # a part year counted whole; 0 under tilt_age
    fixed_fen: int
    years_fen: int
    percent_fen: int
    age_tilt_fen: int

    @property
    def delta_fen(self) -> int:
        return self.fixed_fen + self.years_fen + self.percent_fen + self.age_tilt_fen

    def parts(self) -> dict[str, int]:
        return {"fixed_fen": self.fixed_fen, "years_fen": self.years_fen,
                "percent_fen": self.percent_fen, "age_tilt_fen": self.age_tilt_fen}


def cutoff_date(year: int) -> date:
    """Retired on or before this day: adjusted in `year`; also the day age is measured at."""
    return date(year - 1, 12, 31)


def effective_period(year: int) -> str:
    return f"{year:04d}-01"


def reference_period(year: int) -> str:
    """The month whose pension the percent part is of."""
    return f"{year - 1:04d}-12"


def years_over(birth: date, day: date, age: int) -> int:
    """Years from the `age`-th birthday to `day`, a part year counting whole; 0 before it."""
    full = age_on(birth, day) - age
    if full < 0:
        return 0
    on_anniversary = (day.month, day.day) == (birth.month, birth.day)
    return full + (0 if on_anniversary else 1)


def compute_adjustment(rule: AdjustmentRule, contribution_months: int, deemed_months: int,
                       reference_pension_fen: int, birth: date) -> Adjustment:
    cutoff = cutoff_date(rule.year)
    full_years = (contribution_months + deemed_months) // 12
    age = age_on(birth, cutoff)
    over = years_over(birth, cutoff, rule.tilt_age)
    tilt = rule.tilt_base_fen + rule.tilt_per_year_fen * over if age >= rule.tilt_age else 0
    return Adjustment(
        full_years=full_years, reference_pension_fen=reference_pension_fen, age_years=age,
        years_over_tilt_age=over, fixed_fen=rule.fixed_fen,
        years_fen=rule.per_full_year_fen * full_years,
        percent_fen=round_fen(Decimal(reference_pension_fen) * rule.percent_of_pension),
        age_tilt_fen=tilt)


def _yuan_fen(entry: Mapping[str, Any], name: str, where: str) -> int:
    value = entry.get(name)
    try:
        fen = Decimal(str(value)) * FEN_PER_YUAN
    except InvalidOperation:
        fen = Decimal("NaN")
    if value is None or isinstance(value, bool) or not fen.is_finite() or fen < 0 \
            or fen != fen.to_integral_value():
        raise ValueError(f"{where}: {name} = {value!r} must be a yuan amount ≥ 0 with at "
                         "most 2 decimals, written as a string (e.g. \"44\")")
    return int(fen)


def rules_from_document(document: Mapping[str, Any]) -> dict[tuple[str, int], AdjustmentRule]:
    """The rule table of `pension_adjustment.toml`, keyed by (province code, year); a bad entry
    raises ValueError naming it."""
    rules: dict[tuple[str, int], AdjustmentRule] = {}
    entries = document.get("rule")
    if not isinstance(entries, list):
        raise ValueError("pension_adjustment.toml: expected [[rule]] entries")
    for number, entry in enumerate(entries, 1):
        where = f"pension_adjustment.toml rule {number}"
        province, year = entry.get("province_code"), entry.get("year")
        if not (isinstance(province, str) and len(province) == 2 and province.isdigit()):
            raise ValueError(f"{where}: province_code {province!r} must be two digits (\"45\")")
        if not (isinstance(year, int) and 2005 <= year <= 2100):
            raise ValueError(f"{where}: year {year!r} must be a year 2005-2100")
        where = f"pension_adjustment.toml rule {province}/{year}"
        try:
            percent = Decimal(str(entry.get("percent_of_pension")))
        except InvalidOperation:
            percent = Decimal("NaN")
        if not (percent.is_finite() and 0 <= percent < 1):
            raise ValueError(f"{where}: percent_of_pension must be a fraction in [0, 1) written "
                             "as a string (\"0.012\" for 1.2%)")
        tilt_age = entry.get("tilt_age")
        if not (isinstance(tilt_age, int) and 50 <= tilt_age <= 120):
            raise ValueError(f"{where}: tilt_age {tilt_age!r} must be an age 50-120")
        if (province, year) in rules:
            raise ValueError(f"{where}: listed twice")
        rules[(province, year)] = AdjustmentRule(
            province, year, _yuan_fen(entry, "fixed_yuan", where),
            _yuan_fen(entry, "per_full_year_yuan", where), percent, tilt_age,
            _yuan_fen(entry, "tilt_base_yuan", where),
            _yuan_fen(entry, "tilt_per_year_yuan", where), str(entry.get("source", "")))
    return rules


def rule_for(rules: Mapping[tuple[str, int], AdjustmentRule], region_code: str,
             year: int) -> AdjustmentRule:
    rule = rules.get((region_code[:2], year))
    if rule is None:
        listed = ", ".join(f"{p}/{y}" for p, y in sorted(rules)) or "none"
        raise ValidationFailed(
            "adjustment_rule_missing",
            f"no pension adjustment rule for province {region_code[:2]} (region "
            f"{region_code}) and year {year} (listed: {listed}); add it to "
            "pension_adjustment.toml in the policy data", field="year")
    return rule


def arrears_journal(arrears_fen: int) -> list[JournalLine]:
    """The difference for months already paid comes from the pooled fund."""
    if not arrears_fen:
        return []
    journal: list[JournalLine] = [[pooled_fund(PENSION), arrears_fen, 0],
                                  [BANK_PAYOUT, 0, arrears_fen]]
    assert_balanced(journal)
    return journal


class PensionAdjustment(Aggregate):
    """One entitlement's adjustment of one year; keyed by (entitlement, year), so a year is
    never applied twice."""

    @staticmethod
    def create_id(entitlement_id: str, year: int) -> UUID:
        return fast_uuid5(UUID(entitlement_id), f"adjustment/{year}")

    # `arrears_periods`: the months from `effective_period` on that were paid before this
    # event, each paid `delta_fen` now (`arrears_fen` in all, `journal`).
    @event("Adjusted")
    def __init__(self, person_id: str, entitlement_id: str, year: int, effective_period: str,
                 delta_fen: int, parts: dict[str, int], inputs: dict[str, Any],
                 arrears_periods: Sequence[str], arrears_fen: int, journal: list[JournalLine],
                 inputs_position: int) -> None:
        self.person_id = person_id
        self.entitlement_id = entitlement_id
        self.year = year
        self.delta_fen = delta_fen
        self.arrears_months = len(arrears_periods)
        self.arrears_fen = arrears_fen

    @classmethod
    def adjust(cls, person_id: str, entitlement_id: str, rule: AdjustmentRule,
               adjustment: Adjustment, contribution_months: int, deemed_months: int,
               birth_date: str, arrears_periods: Sequence[str], inputs_position: int
               ) -> PensionAdjustment:
        arrears_fen = adjustment.delta_fen * len(arrears_periods)
        return cls(
            person_id=person_id, entitlement_id=entitlement_id, year=rule.year,
            effective_period=effective_period(rule.year), delta_fen=adjustment.delta_fen,
            parts=adjustment.parts(),
            inputs={"province_code": rule.province_code,
                    "reference_period": reference_period(rule.year),
                    "reference_pension_fen": adjustment.reference_pension_fen,
                    "contribution_months": contribution_months, "deemed_months": deemed_months,
                    "full_years": adjustment.full_years, "birth_date": birth_date,
                    "cutoff_date": cutoff_date(rule.year).isoformat(),
                    "age_years": adjustment.age_years,
                    "years_over_tilt_age": adjustment.years_over_tilt_age,
                    "rule": {"fixed_fen": rule.fixed_fen,
                             "per_full_year_fen": rule.per_full_year_fen,
                             "percent_of_pension": str(rule.percent_of_pension),
                             "tilt_age": rule.tilt_age, "tilt_base_fen": rule.tilt_base_fen,
                             "tilt_per_year_fen": rule.tilt_per_year_fen,
                             "source": rule.source}},
            arrears_periods=list(arrears_periods), arrears_fen=arrears_fen,
            journal=arrears_journal(arrears_fen), inputs_position=inputs_position)
