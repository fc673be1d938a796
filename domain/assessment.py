"""Assessment (核定) of what one person owes for one month, per insurance, from the policy
tables, and the journal that posts a collected month."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from math import gcd

from domain.errors import ValidationFailed
from domain.journal import (
    CLEARING_TAX,
    JournalLine,
    assert_balanced,
    personal_account,
    pooled_fund,
)
from domain.money import apply_ratio, fen_to_yuan_text
from domain.periods import Period
from domain.policy import WORK_INJURY, PolicyTables

# A month's line for one insurance, as stored in events (compact, positional):
# [insurance, base_fen, employer_fen, individual_fen, account_fen]
# account_fen is the part of individual_fen credited to the personal account.
MonthLine = list[object]

EMPLOYEE_INSURANCES = ("110", "210", "310", "410", "510")
ZERO = Decimal(0)


@dataclass(frozen=True)
class RateSchedule:
    """The rates in force for one period and one employer profile, as exact integer ratios:
    (insurance, employer numerator, individual numerator, account numerator, denominator).
    Computing it once per period and profile, and applying it per base, is what makes the bulk
    path fast; the amounts are exactly those of `apply_rate`."""

    period: Period
    floor_fen: int
    cap_fen: int
    items: tuple[tuple[str, int, int, int, int], ...]

    def assess(self, base_fen: int) -> list[MonthLine]:
        if not self.floor_fen <= base_fen <= self.cap_fen:
            raise ValidationFailed(
                "base_out_of_bounds",
                f"base_fen {base_fen} for {self.period} is outside the published bounds "
                f"[{self.floor_fen}, {self.cap_fen}] of {self.period.year}; declare the clamped"
                " base",
                field="base_fen",
            )
        return [
            [insurance, base_fen, apply_ratio(base_fen, employer, denominator),
             apply_ratio(base_fen, individual, denominator),
             apply_ratio(base_fen, account, denominator)]
            for insurance, employer, individual, account, denominator in self.items
        ]


def _ratios(*rates: Decimal) -> tuple[int, ...]:
    """Rates as numerators over one common denominator (the last element)."""
    pairs = [r.as_integer_ratio() for r in rates]
    denominator = 1
    for _, d in pairs:
        denominator = denominator * d // gcd(denominator, d)
    return (*(n * (denominator // d) for n, d in pairs), denominator)


# What the tax bureau collected for one person-month, per insurance:
# (insurance, base_fen, employer_fen, individual_fen)
Collected = tuple[tuple[str, int, int, int], ...]


def month_lines(schedule: RateSchedule, base_fen: int, collected: Collected | None = None
                ) -> tuple[list[MonthLine], list[MonthLine] | None]:
    """The lines to post for a month, and the assessment (应收) when they differ from it.

    Without `collected`, the assessment is posted. With it, the collected amounts are posted as
    they came (the money is there), each individual amount credited to the personal account in
    the policy's proportion (all of it for the pension's 8%), and the assessment is returned
    too whenever an amount differs, so that the difference stays on record."""
    assessed = schedule.assess(base_fen)
    if collected is None:
        return assessed, None
    lines = collected_lines(schedule, collected)
    if [line[:4] for line in lines] == [line[:4] for line in assessed]:
        return lines, None
    return lines, assessed


def amount_difference(lines: Sequence[MonthLine], assessed: Sequence[MonthLine]
                      ) -> ValidationFailed:
    """The refusal of a month whose collected amounts differ from the assessment, for the
    matching rule "hold" (policy matching.toml): it names each insurance that differs."""
    due_by_insurance = {str(a[0]): (_fen(a[1]), _fen(a[2]) + _fen(a[3])) for a in assessed}
    parts = []
    for line in lines:
        base_fen, collected_fen = _fen(line[1]), _fen(line[2]) + _fen(line[3])
        due = due_by_insurance.get(str(line[0]))
        if due is None:
            parts.append(f"{line[0]}: collected but not assessed")
        elif (base_fen, collected_fen) != due:
            parts.append(f"{line[0]}: collected {fen_to_yuan_text(collected_fen)} on base "
                         f"{fen_to_yuan_text(base_fen)}, assessed {fen_to_yuan_text(due[1])} "
                         f"on base {fen_to_yuan_text(due[0])}")
    return ValidationFailed(
        "amount_differs",
        "collected amounts differ from the assessment (" + "; ".join(parts) + "); the region's "
        "matching rule holds such months in suspense: assign the item after checking, or refund",
        field="employer_amount",
    )


def _fen(value: object) -> int:
    assert isinstance(value, int)
    return value


def collected_lines(schedule: RateSchedule, collected: Collected) -> list[MonthLine]:
    """The collected amounts as month lines: each individual amount credited to the personal
    account in the policy's proportion (all of it for the pension's 8%). No assessment: also
    for money posted where no base is declared (a suspense item assigned by a clerk)."""
    ratios = {item[0]: item for item in schedule.items}
    lines: list[MonthLine] = []
    for insurance, collected_base_fen, employer_fen, individual_fen in collected:
        _code, _employer_n, individual_n, account_n, _denominator = ratios[insurance]
        account_fen = apply_ratio(individual_fen, account_n, individual_n) if individual_n else 0
        lines.append([insurance, collected_base_fen, employer_fen, individual_fen, account_fen])
    return lines


def rate_schedule(
    policy: PolicyTables,
    period: Period,
    risk_class: int,
    insurances: Iterable[str] = EMPLOYEE_INSURANCES,
    work_injury_float: Decimal = Decimal(1),
) -> RateSchedule:
    bounds = policy.bounds(period.year)
    items: list[tuple[str, int, int, int, int]] = []
    seen: set[str] = set()
    for insurance in insurances:
        policy.insurance(insurance, "insurances")
        if insurance in seen:
            raise ValidationFailed(
                "insurance_duplicate", f"insurance {insurance} listed twice", field="insurances"
            )
        seen.add(insurance)
        if insurance == WORK_INJURY:
            rate = policy.work_injury_rate(risk_class, period).rate * work_injury_float
            employer_n, individual_n, account_n, denominator = _ratios(rate, ZERO, ZERO)
        else:
            r = policy.rate(insurance, period)
            employer_n, individual_n, account_n, denominator = _ratios(
                r.employer_rate, r.individual_rate, r.personal_account_rate)
        items.append((insurance, employer_n, individual_n, account_n, denominator))
    return RateSchedule(period, bounds.floor_fen, bounds.cap_fen, tuple(items))


def assess_month(
    policy: PolicyTables,
    period: Period,
    base_fen: int,
    risk_class: int,
    insurances: Iterable[str] = EMPLOYEE_INSURANCES,
    work_injury_float: Decimal = Decimal(1),
) -> list[MonthLine]:
    """Amounts due for one person-month: employer and individual part per insurance."""
    return rate_schedule(policy, period, risk_class, insurances, work_injury_float).assess(
        base_fen)


def month_total_fen(lines: Sequence[Sequence[object]]) -> int:
    return sum(int(str(line[2])) + int(str(line[3])) for line in lines)


def posting_journal(person_id: str, lines: Sequence[Sequence[object]],
                    debit_account: str = CLEARING_TAX) -> list[JournalLine]:
    """Journal of a collected month: the tax clearing account (or, for money assigned out of
    suspense, `suspense`) is debited with all that was collected; each insurance's pooled fund
    is credited with the employer part and the individual part not credited to the personal
    account; the personal account gets its share."""
    journal: list[JournalLine] = [[debit_account, 0, 0]]
    total = 0
    for insurance, _base, employer, individual, account in lines:
        assert isinstance(insurance, str)
        assert type(employer) is int and type(individual) is int and type(account) is int
        total += employer + individual
        pooled = employer + individual - account
        if pooled:
            journal.append([pooled_fund(insurance), 0, pooled])
        if account:
            journal.append([personal_account(person_id, insurance), 0, account])
    journal[0][1] = total
    assert_balanced(journal)
    return journal
