"""Back-payment (补缴, DOMAIN.md §6): what a person's unpaid past months cost when they are paid
now, computed without I/O so that the assessment and its collection agree to the fen.

For each back-paid month (费款所属期), at the rates and base bounds of that month and the
employer's work-injury class in force then:
- the contribution lines, as an ordinary month (the account part at that month's share);
- the late fee (滞纳金) per insurance: the month's amount × daily rate × days from the month's due
  date to the payment deadline, capped at the amount, borne by the employer only;
and for the person's pension account:
- the interest the back-paid account credits earn in the years whose interest is credited
  already (记账利率, 月积数法), found by recomputing those years with and without the credits.
  The payer pays it (本金、利息、滞纳金); the years themselves are recomputed by events when the
  money is collected, the pooled fund crediting the account and the payer's interest line
  making the fund whole. The current year's interest is credited at its year-end as for any
  balance (the fund bears the months of that year before the payment: ⚠ no national rule found).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.assessment import MonthLine, RateSchedule, month_total_fen
from domain.errors import Conflict, ValidationFailed
from domain.interest import MONTHS_PER_YEAR, YearInterest, compute_year_interest
from domain.journal import CLEARING_TAX, SUSPENSE, JournalLine, assert_balanced, pooled_fund
from domain.late_fee import late_fee
from domain.periods import Period
from domain.policy import PENSION, PolicyTables

BACKPAY_MONTHS_MAX = 12 * 15  # a longer span is a data-entry error, not a back-payment
NO_CREDITS: tuple[int, ...] = (0,) * MONTHS_PER_YEAR


@dataclass(frozen=True)
class BackPayMonth:
    period: str
    lines: list[MonthLine]  # [insurance, base_fen, employer_fen, individual_fen, account_fen]
    due_date: date
    days_late: int
    late_fees: list[list[object]]  # [insurance, fee_fen], one per line

    @property
    def total_fen(self) -> int:
        return month_total_fen(self.lines)

    @property
    def late_fee_fen(self) -> int:
        return sum(int(str(fee[1])) for fee in self.late_fees)

    @property
    def pension_account_fen(self) -> int:
        return sum(int(str(line[4])) for line in self.lines if line[0] == PENSION)


def backpay_month(policy: PolicyTables, schedule: RateSchedule, base_fen: int, pay_by: date
                 ) -> BackPayMonth:
    """One back-paid month: `schedule` is the rate schedule of that month for the employer."""
    lines = schedule.assess(base_fen)
    due = policy.due_date(schedule.period)
    if pay_by < due:
        raise ValidationFailed(
            "backpay_month_not_due",
            f"{schedule.period} falls due on {due}, after the payment deadline {pay_by}: it is "
            "not a back-payment; post it as an ordinary month",
            field="to_period",
        )
    fees: list[list[object]] = []
    days = 0
    for line in lines:
        amount_fen = int(str(line[2])) + int(str(line[3]))
        fee = late_fee(policy, amount_fen, due, pay_by)
        days = fee.days_late
        fees.append([line[0], fee.fee_fen])
    return BackPayMonth(str(schedule.period), lines, due, days, fees)


def check_span(periods: Sequence[Period]) -> None:
    if not periods:
        raise ValidationFailed("backpay_no_months", "from_period is after to_period",
                               field="from_period")
    if len(periods) > BACKPAY_MONTHS_MAX:
        raise ValidationFailed(
            "backpay_span_too_long",
            f"{len(periods)} months from {periods[0]} to {periods[-1]}: at most "
            f"{BACKPAY_MONTHS_MAX}; split the back-payment or check the periods",
            field="from_period",
        )


# -- interest on the back-paid account credits ----------------------------------------------

@dataclass(frozen=True)
class RecordedYear:
    """A year's interest as the InterestYear aggregate records it."""

    year: int
    opening_fen: int
    credits_by_month_fen: tuple[int, ...]
    interest_fen: int
    closing_fen: int


@dataclass(frozen=True)
class InterestChange:
    """A year whose interest must be (re)credited: `before` is None when it never was."""

    result: YearInterest
    before: RecordedYear | None

    @property
    def year(self) -> int:
        return self.result.year

    @property
    def delta_fen(self) -> int:
        return self.result.interest_fen - (self.before.interest_fen if self.before else 0)


def recompute_interest(
    policy: PolicyTables,
    recorded: Mapping[int, RecordedYear],
    credits_by_year: Mapping[int, tuple[int, ...]],
    opening_fen: int,
    from_year: int,
    through_year: int,
) -> list[InterestChange]:
    """The years from `from_year` to `through_year` (the last year credited in the region) whose
    interest differs from what is recorded, computed from the account as it is:
    `credits_by_year` the contribution credits per month, `opening_fen` the balance at the end
    of from_year − 1. A year with nothing in the account and nothing recorded is left alone."""
    changes: list[InterestChange] = []
    opening = opening_fen
    for year in range(from_year, through_year + 1):
        credits = credits_by_year.get(year, NO_CREDITS)
        before = recorded.get(year)
        if before is None and opening == 0 and not any(credits):
            continue
        result = compute_year_interest(year, policy.interest_rate(year).rate, opening, credits)
        if before is None or (before.opening_fen, before.credits_by_month_fen,
                              before.interest_fen) != (result.opening_fen,
                                                       result.credits_by_month_fen,
                                                       result.interest_fen):
            changes.append(InterestChange(result, before))
        opening = result.closing_fen
    return changes


def with_credits(credits_by_year: Mapping[int, tuple[int, ...]], months: Sequence[BackPayMonth]
                 ) -> dict[int, tuple[int, ...]]:
    """The account's credits per year and month with the back-paid months' pension credits."""
    combined = {year: list(credits) for year, credits in credits_by_year.items()}
    for month in months:
        year, index = int(month.period[:4]), int(month.period[5:7]) - 1
        combined.setdefault(year, list(NO_CREDITS))[index] += month.pension_account_fen
    return {year: tuple(credits) for year, credits in combined.items()}


def backpay_interest_fen(baseline: Sequence[InterestChange], with_backpay: Sequence[InterestChange]
                         ) -> int:
    """The interest the back-payment adds: the recomputation with its credits less the one
    without (which holds any correction owed for other reasons, not charged to the payer)."""
    return sum(c.delta_fen for c in with_backpay) - sum(c.delta_fen for c in baseline)


def collection_journal(months: Sequence[BackPayMonth], interest_fen: int,
                       from_suspense_fen: int = 0) -> list[JournalLine]:
    """The late fee and the interest the payer paid with the months, out of the tax clearing
    account: the fee into each insurance's pooled fund, the interest into the pension fund
    (which credits it to the account by the years' recomputation). Money of the back-payment
    that an import held in suspense (`from_suspense_fen`) moves back to the clearing account
    first, from which the months are posted like the rest."""
    fees: dict[str, int] = {}
    for month in months:
        for insurance, fee_fen in month.late_fees:
            fees[str(insurance)] = fees.get(str(insurance), 0) + int(str(fee_fen))
    total = sum(fees.values()) + interest_fen
    journal: list[JournalLine] = [[CLEARING_TAX, total, 0]]
    for insurance in sorted(fees):
        if fees[insurance]:
            journal.append([pooled_fund(insurance), 0, fees[insurance]])
    if interest_fen:
        journal.append([pooled_fund(PENSION), 0, interest_fen])
    if total == 0:
        journal = []
    if from_suspense_fen:
        journal = [[SUSPENSE, from_suspense_fen, 0], [CLEARING_TAX, 0, from_suspense_fen],
                   *journal]
    assert_balanced(journal)
    return journal


# -- the aggregate ---------------------------------------------------------------------------

ASSESSED = "assessed"
COLLECTED = "collected"
CANCELLED = "cancelled"


class BackPayment(Aggregate):
    """One back-payment assessment (补缴核定) and its fate: collected once, or cancelled.

    `Assessed` records every input and figure (months with lines and late fees, the interest
    per year, the payment deadline) so that the notice can be reprinted and audited without the
    read models. `Collected` is saved in one transaction with the months it posts and the
    interest years it recomputes, and carries the late fee and interest journal."""

    @event("Assessed")
    def __init__(
        self,
        person_id: str,
        id_number: str,
        employer_code: str,
        months: list[dict[str, Any]],
        interest_years: list[dict[str, Any]],
        pay_by: str,
        principal_fen: int,
        late_fee_fen: int,
        interest_fen: int,
        assessed_by: str,
        reason: str,
    ) -> None:
        self.person_id = person_id
        self.id_number = id_number
        self.employer_code = employer_code
        self.months = months
        self.interest_years = interest_years
        self.pay_by = pay_by
        self.principal_fen = principal_fen
        self.late_fee_fen = late_fee_fen
        self.interest_fen = interest_fen
        self.status = ASSESSED
        self.collected_on: str | None = None
        self.tax_serial: str | None = None

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.late_fee_fen + self.interest_fen

    @property
    def periods(self) -> list[str]:
        return [str(m["period"]) for m in self.months]

    def check_open(self) -> None:
        if self.status != ASSESSED:
            raise Conflict(
                f"backpay_{self.status}",
                f"back-payment {self.id} is {self.status} already; assess again if more is due",
                field="backpay_id",
            )

    def check_collection(self, collected_on: date, amount_fen: int) -> None:
        self.check_open()
        if collected_on > date.fromisoformat(self.pay_by):
            raise Conflict(
                "backpay_assessment_expired",
                f"collected on {collected_on}, after the assessment's deadline {self.pay_by}: "
                "the late fee and interest have grown; cancel it and assess again",
                field="collected_on",
            )
        if amount_fen != self.total_fen:
            raise Conflict(
                "backpay_amount_differs",
                f"collected {amount_fen} fen, the assessment is {self.total_fen} fen (principal "
                f"{self.principal_fen}, late fee {self.late_fee_fen}, interest "
                f"{self.interest_fen}); hold the money in suspense and ask the tax bureau",
                field="amount_fen",
            )

    def collect(self, collected_on: str, tax_serial: str, amount_fen: int,
                month_ids: list[str], journal: list[list[Any]], collected_by: str,
                from_suspense: list[list[Any]]) -> None:
        """Record the collection; the caller saves the months and interest years with it, and
        the suspense items `from_suspense` ([serial, insurance, amount_fen]) assigned to it."""
        self.check_collection(date.fromisoformat(collected_on), amount_fen)
        assert_balanced(journal)
        self._collected(collected_on=collected_on, tax_serial=tax_serial, amount_fen=amount_fen,
                        month_ids=month_ids, journal=journal, collected_by=collected_by,
                        from_suspense=from_suspense)

    @event("Collected")
    def _collected(self, collected_on: str, tax_serial: str, amount_fen: int,
                   month_ids: list[str], journal: list[list[Any]], collected_by: str,
                   from_suspense: list[list[Any]]) -> None:
        self.status = COLLECTED
        self.collected_on = collected_on
        self.tax_serial = tax_serial

    def cancel(self, reason: str, cancelled_by: str) -> None:
        self.check_open()
        if not reason.strip():
            raise ValidationFailed("reason_missing", "a cancellation needs a reason",
                                   field="reason")
        self._cancelled(reason=reason.strip(), cancelled_by=cancelled_by)

    @event("Cancelled")
    def _cancelled(self, reason: str, cancelled_by: str) -> None:
        self.status = CANCELLED
