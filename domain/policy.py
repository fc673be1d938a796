"""Policy tables: dated, sourced parameters (rates, base bounds, work-injury class rates,
interest rates). They are data files in `domain/policy_data/`, read by infra and turned into a
`PolicyTables` here, where each value is validated. Lookups take the period they apply to:
a rate is never a constant, it is the value in force for that month."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
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
    average_wage_fen: int = 0  # A: the average monthly wage the bounds derive from


@dataclass(frozen=True)
class LateFeeRate:
    effective_from: date
    daily_rate: Decimal
    due_day: int  # contributions of a month fall due on this day of the following month
    source: str


AMOUNT_DIFFERENCE_RULES = ("post", "hold")


@dataclass(frozen=True)
class MatchingRule:
    """What the collection import does when collected amounts differ from the assessment."""

    amount_difference: str  # "post" (as collected, assessment kept) or "hold" (suspense)
    source: str

    @property
    def holds_differences(self) -> bool:
        return self.amount_difference == "hold"


@dataclass(frozen=True)
class InterestRate:
    year: int
    rate: Decimal
    source: str


def _dated_lookup(rows: list[Any], on: date) -> Any | None:
    keys = [r.effective_from for r in rows]
    i = bisect.bisect_right(keys, on)
    return rows[i - 1] if i else None


_MISSING = object()


class _Row:
    """One entry of a policy file, read field by field; every error names file, entry, key."""

    def __init__(self, file: str, table: str, index: int, row: Any) -> None:
        self.where = f"{file} {table}[{index}]"
        if not isinstance(row, dict):
            raise ValueError(f"{self.where}: expected a table of keys, got {row!r}")
        self.row = row

    def _get(self, key: str, default: Any = _MISSING) -> Any:
        value = self.row.get(key, default)
        if value is _MISSING:
            raise ValueError(f"{self.where}: `{key}` is missing")
        return value

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{self.where}: `{key}` must be non-empty text, got {value!r}")
        return value

    def integer(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{self.where}: `{key}` must be a whole number, got {value!r}")
        return value

    def boolean(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise ValueError(f"{self.where}: `{key}` must be true or false, got {value!r}")
        return value

    def day(self, key: str) -> date:
        value = self._get(key)
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValueError(
                f"{self.where}: `{key}` must be a TOML date (2019-05-01, unquoted), got {value!r}")
        return value

    def rate(self, key: str, default: str | None = None) -> Decimal:
        value = self._get(key, default if default is not None else _MISSING)
        if not isinstance(value, str):
            raise ValueError(
                f"{self.where}: `{key}`: write rates as quoted decimal strings, got {value!r}")
        try:
            rate = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{self.where}: `{key}` {value!r} is not a number") from None
        if not rate.is_finite() or not Decimal(0) <= rate < Decimal(1):
            raise ValueError(f"{self.where}: `{key}` rate {value} is outside [0, 1)")
        return rate

    def source(self) -> str:
        value = self.row.get("source")
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{self.where}: every policy value needs a `source` (a DOMAIN.md key)")
        return value


def _rows(docs: dict[str, dict[str, Any]], name: str, table: str) -> list[_Row]:
    file = f"{name}.toml"
    doc = docs.get(name)
    if not isinstance(doc, dict) or not isinstance(doc.get(table), list):
        raise ValueError(f"{file}: expected an array of [[{table}]] entries")
    return [_Row(file, table, i, row) for i, row in enumerate(doc[table])]


def _unique(seen: set[Any], key: Any, where: str, what: str) -> None:
    if key in seen:
        raise ValueError(f"{where}: {what} is given twice; keep one entry")
    seen.add(key)


def _matching(docs: dict[str, dict[str, Any]]) -> MatchingRule:
    doc = docs.get("matching")
    if not isinstance(doc, dict) or not isinstance(doc.get("matching"), dict):
        raise ValueError("matching.toml: expected a [matching] table")
    r = _Row("matching.toml", "matching", 0, doc["matching"])
    rule = r.text("amount_difference")
    if rule not in AMOUNT_DIFFERENCE_RULES:
        raise ValueError(f"{r.where}: `amount_difference` must be one of "
                         f"{', '.join(AMOUNT_DIFFERENCE_RULES)}, got {rule!r}")
    return MatchingRule(rule, r.source())


def _transitional_coefficient(docs: dict[str, dict[str, Any]]) -> Decimal:
    doc = docs.get("pension")
    if not isinstance(doc, dict) or not isinstance(doc.get("pension"), dict):
        raise ValueError("pension.toml: expected a [pension] table")
    r = _Row("pension.toml", "pension", 0, doc["pension"])
    r.source()
    return r.rate("transitional_coefficient")


@dataclass
class PolicyTables:
    insurances: dict[str, Insurance]
    rates: dict[str, list[InsuranceRate]]
    work_injury_rates: dict[int, list[WorkInjuryClassRate]]
    base_bounds: dict[int, BaseBounds]
    interest_rates: dict[int, InterestRate]
    late_fee_rates: list[LateFeeRate] = field(default_factory=list)
    matching: MatchingRule = MatchingRule("post", "default")
    transitional_coefficient: Decimal = Decimal("0.012")

    @classmethod
    def from_documents(cls, docs: dict[str, dict[str, Any]]) -> PolicyTables:
        """Build from parsed data files (name → TOML document). Raises ValueError naming the
        file, entry and key at fault, so that a bad policy file stops start-up with a clear
        reason; ambiguous data (the same year or date twice) is refused, not resolved."""
        insurances: dict[str, Insurance] = {}
        for r in _rows(docs, "insurances", "insurance"):
            code = r.text("code")
            _unique(set(insurances), code, r.where, f"insurance {code}")
            insurances[code] = Insurance(code, r.text("name_zh"), r.text("name_en"),
                                         r.boolean("employer_only"))
        rates: dict[str, list[InsuranceRate]] = {}
        seen: set[Any] = set()
        for r in _rows(docs, "rates", "rate"):
            insurance = r.text("insurance")
            if insurance not in insurances:
                raise ValueError(f"{r.where}: unknown insurance {insurance!r}")
            rate = InsuranceRate(
                insurance=insurance,
                effective_from=r.day("effective_from"),
                employer_rate=r.rate("employer"),
                individual_rate=r.rate("individual"),
                personal_account_rate=r.rate("personal_account", "0"),
                source=r.source(),
            )
            if rate.personal_account_rate > rate.individual_rate:
                raise ValueError(f"{r.where}: personal_account share exceeds the individual rate")
            _unique(seen, (insurance, rate.effective_from), r.where,
                    f"a rate of {insurance} from {rate.effective_from}")
            rates.setdefault(insurance, []).append(rate)
        for rows in rates.values():
            rows.sort(key=lambda x: x.effective_from)
        wi: dict[int, list[WorkInjuryClassRate]] = {}
        seen = set()
        for r in _rows(docs, "work_injury", "class_rate"):
            risk_class = r.integer("risk_class")
            if not 1 <= risk_class <= 8:
                raise ValueError(f"{r.where}: risk class must be 1..8, got {risk_class}")
            class_rate = WorkInjuryClassRate(risk_class, r.day("effective_from"), r.rate("rate"),
                                             r.source())
            _unique(seen, (risk_class, class_rate.effective_from), r.where,
                    f"class {risk_class} from {class_rate.effective_from}")
            wi.setdefault(risk_class, []).append(class_rate)
        for rows_wi in wi.values():
            rows_wi.sort(key=lambda x: x.effective_from)
        bounds: dict[int, BaseBounds] = {}
        for r in _rows(docs, "base_bounds", "bounds"):
            b = BaseBounds(r.integer("year"), r.integer("floor_fen"), r.integer("cap_fen"),
                           r.source(), r.integer("average_wage_fen"))
            if not b.floor_fen < b.average_wage_fen < b.cap_fen:
                raise ValueError(f"{r.where}: average_wage_fen must lie between the bounds")
            if not 0 < b.floor_fen < b.cap_fen:
                raise ValueError(f"{r.where}: need 0 < floor_fen < cap_fen")
            _unique(set(bounds), b.year, r.where, f"year {b.year}")
            bounds[b.year] = b
        interest: dict[int, InterestRate] = {}
        for r in _rows(docs, "interest", "rate"):
            ir = InterestRate(r.integer("year"), r.rate("rate"), r.source())
            _unique(set(interest), ir.year, r.where, f"year {ir.year}")
            interest[ir.year] = ir
        late_fees: list[LateFeeRate] = []
        seen = set()
        for r in _rows(docs, "late_fee", "rate"):
            fee = LateFeeRate(r.day("effective_from"), r.rate("daily_rate"),
                              r.integer("due_day"), r.source())
            if not 1 <= fee.due_day <= 28:
                raise ValueError(f"{r.where}: due_day must be 1..28 (a day every month has)")
            _unique(seen, fee.effective_from, r.where, f"a late-fee rate from {fee.effective_from}")
            late_fees.append(fee)
        late_fees.sort(key=lambda x: x.effective_from)
        return cls(insurances, rates, wi, bounds, interest, late_fees, _matching(docs),
                   _transitional_coefficient(docs))

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

    def late_fee_rate(self, on: date) -> LateFeeRate:
        found = _dated_lookup(self.late_fee_rates, on)
        if found is None:
            raise ValidationFailed(
                "policy_late_fee_rate_missing",
                f"no late-fee rate in force on {on}; add it to domain/policy_data/late_fee.toml",
                field="due_date",
            )
        rate: LateFeeRate = found
        return rate

    def due_date(self, period: Period) -> date:
        """The day a period's contributions fall due: `due_day` of the following month."""
        following = period.next()
        first = date(following.year, following.month, 1)
        return first.replace(day=self.late_fee_rate(first).due_day)

    def clamp_base(self, year: int, declared_wage_fen: int) -> int:
        """The contribution base: the declared wage clamped to [floor, cap] of that year."""
        b = self.bounds(year)
        return min(max(declared_wage_fen, b.floor_fen), b.cap_fen)
