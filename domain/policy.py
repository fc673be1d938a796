"""Policy tables: dated, sourced parameters (rates, base bounds, work-injury class rates,
interest rates). They are data files in `domain/policy_data/`, read by infra and turned into a
`PolicyTables` here, where each value is validated. Lookups take the period they apply to:
a rate is never a constant, it is the value in force for that month."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from domain.errors import ValidationFailed
from domain.periods import Period

PENSION = "110"
UNEMPLOYMENT = "210"
MEDICAL = "310"
WORK_INJURY = "410"
MATERNITY = "510"


@dataclass(frozen=True)
class Insurance:
    code: str  # AAE140
    name_zh: str
    name_en: str
    employer_only: bool


@dataclass(frozen=True)
class InsuranceRate:
    insurance: str
    effective_from: date
    employer_rate: Decimal
    individual_rate: Decimal
    personal_account_rate: Decimal  # share of the base credited to the personal account
    source: str


@dataclass(frozen=True)
class WorkInjuryClassRate:
    risk_class: int
    effective_from: date
    rate: Decimal
    source: str


@dataclass(frozen=True)
class BaseBounds:
    year: int
    floor_fen: int
    cap_fen: int
    source: str


@dataclass(frozen=True)
class InterestRate:
    year: int
    rate: Decimal
    source: str


def _dated_lookup(rows: list[Any], on: date) -> Any | None:
    keys = [r.effective_from for r in rows]
    i = bisect.bisect_right(keys, on)
    return rows[i - 1] if i else None


def _decimal(value: Any, where: str) -> Decimal:
    if not isinstance(value, str):
        raise ValueError(f"{where}: write rates as quoted decimal strings, got {value!r}")
    rate = Decimal(value)
    if not Decimal(0) <= rate < Decimal(1):
        raise ValueError(f"{where}: rate {value} is outside [0, 1)")
    return rate


def _source(row: dict[str, Any], where: str) -> str:
    source = row.get("source")
    if not isinstance(source, str) or not source:
        raise ValueError(f"{where}: every policy value needs a `source` (a DOMAIN.md key)")
    return source


@dataclass
class PolicyTables:
    insurances: dict[str, Insurance]
    rates: dict[str, list[InsuranceRate]]
    work_injury_rates: dict[int, list[WorkInjuryClassRate]]
    base_bounds: dict[int, BaseBounds]
    interest_rates: dict[int, InterestRate]
    sources: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_documents(cls, docs: dict[str, dict[str, Any]]) -> PolicyTables:
        """Build from parsed data files (name → TOML document). Raises ValueError naming the
        file and entry at fault, so that a bad policy file stops start-up with a clear reason."""
        insurances: dict[str, Insurance] = {}
        for i, row in enumerate(docs["insurances"]["insurance"]):
            where = f"insurances.toml insurance[{i}]"
            insurances[row["code"]] = Insurance(
                code=str(row["code"]),
                name_zh=row["name_zh"],
                name_en=row["name_en"],
                employer_only=bool(row["employer_only"]),
            )
        rates: dict[str, list[InsuranceRate]] = {}
        for i, row in enumerate(docs["rates"]["rate"]):
            where = f"rates.toml rate[{i}]"
            if row["insurance"] not in insurances:
                raise ValueError(f"{where}: unknown insurance {row['insurance']!r}")
            rate = InsuranceRate(
                insurance=row["insurance"],
                effective_from=row["effective_from"],
                employer_rate=_decimal(row["employer"], where),
                individual_rate=_decimal(row["individual"], where),
                personal_account_rate=_decimal(row.get("personal_account", "0"), where),
                source=_source(row, where),
            )
            if rate.personal_account_rate > rate.individual_rate:
                raise ValueError(f"{where}: personal_account share exceeds the individual rate")
            rates.setdefault(rate.insurance, []).append(rate)
        for rows in rates.values():
            rows.sort(key=lambda r: r.effective_from)
        wi: dict[int, list[WorkInjuryClassRate]] = {}
        for i, row in enumerate(docs["work_injury"]["class_rate"]):
            where = f"work_injury.toml class_rate[{i}]"
            risk_class = int(row["risk_class"])
            if not 1 <= risk_class <= 8:
                raise ValueError(f"{where}: risk class must be 1..8")
            wi.setdefault(risk_class, []).append(
                WorkInjuryClassRate(
                    risk_class, row["effective_from"], _decimal(row["rate"], where),
                    _source(row, where),
                )
            )
        for rows_wi in wi.values():
            rows_wi.sort(key=lambda r: r.effective_from)
        bounds: dict[int, BaseBounds] = {}
        for i, row in enumerate(docs["base_bounds"]["bounds"]):
            where = f"base_bounds.toml bounds[{i}]"
            b = BaseBounds(int(row["year"]), int(row["floor_fen"]), int(row["cap_fen"]),
                           _source(row, where))
            if not 0 < b.floor_fen < b.cap_fen:
                raise ValueError(f"{where}: need 0 < floor_fen < cap_fen")
            bounds[b.year] = b
        interest: dict[int, InterestRate] = {}
        for i, row in enumerate(docs["interest"]["rate"]):
            where = f"interest.toml rate[{i}]"
            r = InterestRate(int(row["year"]), _decimal(row["rate"], where), _source(row, where))
            interest[r.year] = r
        return cls(insurances, rates, wi, bounds, interest)

    # -- lookups -------------------------------------------------------------------------

    def insurance(self, code: str, field_name: str = "insurance") -> Insurance:
        found = self.insurances.get(code)
        if found is None:
            known = ", ".join(sorted(self.insurances))
            raise ValidationFailed(
                "insurance_unknown",
                f"{field_name}: unknown insurance code {code!r}; known codes (AAE140): {known}",
                field=field_name,
            )
        return found

    def rate(self, insurance: str, period: Period) -> InsuranceRate:
        self.insurance(insurance)
        found = _dated_lookup(self.rates.get(insurance, []), date(period.year, period.month, 1))
        if found is None:
            raise ValidationFailed(
                "policy_rate_missing",
                f"no contribution rate for insurance {insurance} in {period}; "
                "add it to domain/policy_data/rates.toml",
                field="period",
            )
        rate: InsuranceRate = found
        return rate

    def work_injury_rate(self, risk_class: int, period: Period) -> WorkInjuryClassRate:
        found = _dated_lookup(
            self.work_injury_rates.get(risk_class, []), date(period.year, period.month, 1)
        )
        if found is None:
            raise ValidationFailed(
                "policy_work_injury_rate_missing",
                f"no work-injury rate for risk class {risk_class} in {period}; "
                "add it to domain/policy_data/work_injury.toml",
                field="risk_class",
            )
        rate: WorkInjuryClassRate = found
        return rate

    def bounds(self, year: int) -> BaseBounds:
        found = self.base_bounds.get(year)
        if found is None:
            raise ValidationFailed(
                "policy_base_bounds_missing",
                f"no contribution base floor/cap for {year}; "
                "add the published bounds to domain/policy_data/base_bounds.toml",
                field="year",
            )
        return found

    def interest_rate(self, year: int) -> InterestRate:
        found = self.interest_rates.get(year)
        if found is None:
            raise ValidationFailed(
                "policy_interest_rate_missing",
                f"no notional interest rate (记账利率) for {year}; it is published each June "
                "for the previous year; add it to domain/policy_data/interest.toml",
                field="year",
            )
        return found

    def clamp_base(self, year: int, declared_wage_fen: int) -> int:
        """The contribution base: the declared wage clamped to [floor, cap] of that year."""
        b = self.bounds(year)
        return min(max(declared_wage_fen, b.floor_fen), b.cap_fen)
