"""Assessment (核定) of what one person owes for one month, per insurance, from the policy
tables, and the journal that posts a collected month."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from domain.errors import ValidationFailed
from domain.journal import CLEARING_TAX, JournalLine, assert_balanced, personal_account, pooled_fund
from domain.money import apply_rate
from domain.periods import Period
from domain.policy import WORK_INJURY, PolicyTables

# A month's line for one insurance, as stored in events (compact, positional):
# [insurance, base_fen, employer_fen, individual_fen, account_fen]
# account_fen is the part of individual_fen credited to the personal account.
MonthLine = list[object]

EMPLOYEE_INSURANCES = ("110", "210", "310", "410", "510")


def check_base(policy: PolicyTables, period: Period, base_fen: int) -> None:
    bounds = policy.bounds(period.year)
    if not bounds.floor_fen <= base_fen <= bounds.cap_fen:
        raise ValidationFailed(
            "base_out_of_bounds",
            f"base_fen {base_fen} for {period} is outside the published bounds "
            f"[{bounds.floor_fen}, {bounds.cap_fen}] of {period.year}; declare the clamped base",
            field="base_fen",
        )


def assess_month(
    policy: PolicyTables,
    period: Period,
    base_fen: int,
    risk_class: int,
    insurances: Iterable[str] = EMPLOYEE_INSURANCES,
    work_injury_float: Decimal = Decimal(1),
) -> list[MonthLine]:
    """Amounts due for one person-month: employer and individual part per insurance."""
    check_base(policy, period, base_fen)
    lines: list[MonthLine] = []
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
            lines.append([insurance, base_fen, apply_rate(base_fen, rate), 0, 0])
            continue
        r = policy.rate(insurance, period)
        lines.append([
            insurance,
            base_fen,
            apply_rate(base_fen, r.employer_rate),
            apply_rate(base_fen, r.individual_rate),
            apply_rate(base_fen, r.personal_account_rate),
        ])
    return lines


def month_total_fen(lines: Sequence[Sequence[object]]) -> int:
    return sum(int(str(line[2])) + int(str(line[3])) for line in lines)


def posting_journal(person_id: str, lines: Sequence[Sequence[object]]) -> list[JournalLine]:
    """Journal of a collected month: the tax clearing account is debited with all that was
    collected; each insurance's pooled fund is credited with the employer part and the individual
    part not credited to the personal account; the personal account gets its share."""
    journal: list[JournalLine] = []
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
    journal.insert(0, [CLEARING_TAX, total, 0])
    assert_balanced(journal)
    return journal
