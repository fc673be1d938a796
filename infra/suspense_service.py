"""Clearing suspense (暂收/挂账清理): a clerk's recorded decision on one suspense item.

- assignment: the item's collected line belongs to a person and period. In the same transaction
  as the item's `Assigned`, the money is posted into that person-month as collected, with a
  journal debiting `suspense` (not `clearing:tax`), `serials` naming the item and `source`
  `suspense:<serial>`: a new month is `Posted`; a posted month without that insurance is
  `Supplemented`; a reversed (红冲) month is `Reposted` with this line; a posted month with
  that insurance is refused.
- reopening: reversing a month that holds assigned items returns their money to suspense and
  holds the items again (`Reopened`, in the reversal's transaction; see LedgerService).
- refund: the money goes back to the payer through the tax bureau (`Refunded`, journal
  suspense → bank:payout), with the tax bureau's refund reference.

Both go through `LedgerService.execute`: an Idempotency-Key replays the first result, and the
same decision sent again (same person, period and employer; same refund reference) is a no-op
returning the recorded decision. Any other second decision is 409 `suspense_already_decided`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.assessment import posting_journal, rate_schedule
from domain.contribution import REVERSED, ContributionMonth
from domain.errors import NotFound, ValidationFailed
from domain.identity import parse_credit_code, parse_id_number
from domain.journal import SUSPENSE
from domain.periods import parse_period
from domain.suspense import SuspenseItem, assignment_lines
from infra.bootstrap import Container
from infra.ledger_service import CommandResult, Decision, LedgerService

SERIAL_LENGTH_MAX = 64  # as in the collection file (domain/collection.py)
SOURCE_PREFIX = "suspense:"  # `source` of a posting made by assigning a suspense item


def _ledger(c: Container | LedgerService) -> LedgerService:
    return c if isinstance(c, LedgerService) else c.ledger


def _serial(serial_no: str) -> str:
    serial = serial_no.strip() if isinstance(serial_no, str) else ""
    if not serial or len(serial) > SERIAL_LENGTH_MAX:
        raise ValidationFailed("serial_no_malformed",
                               f"serial_no must be 1-{SERIAL_LENGTH_MAX} characters",
                               field="serial_no")
    return serial


def _item(ledger: LedgerService, serial: str) -> SuspenseItem:
    found = ledger._get(SuspenseItem.create_id(ledger.region_code, serial))
    if found is None:
        raise NotFound("suspense_not_found",
                       f"no suspense item with serial number {serial} in region "
                       f"{ledger.region_code}", field="serial_no")
    item: SuspenseItem = found
    return item


def decision_result(item: SuspenseItem) -> dict[str, Any]:
    """What a decision returns, from the item's state: the same for the first call and for
    the same decision sent again."""
    return {"serial_no": item.serial_no, "suspense_id": str(item.id), "status": item.status,
            "amount_fen": item.amount_fen, "decided_by": item.decided_by,
            "reason": item.decision_reason, "person_id": item.person_id,
            "id_number": item.id_number, "period": item.period,
            "employer_code": item.employer_code, "month_id": item.month_id,
            "reference": item.reference}


def assign_suspense(c: Container | LedgerService, serial_no: str, id_number: str, period: str,
                    reason: str, decided_by: str, employer_code: str | None = None,
                    idempotency_key: str | None = None) -> CommandResult:
    """Assign a suspense item to a person and period and post its money there (see above).
    The employer is the line's unless `employer_code` names another; it must be registered."""
    ledger = _ledger(c)
    serial = _serial(serial_no)
    number = parse_id_number(id_number).number
    target = parse_period(period)
    p = str(target)
    code = parse_credit_code(employer_code, "employer_code") if employer_code else None
    payload = {"serial_no": serial, "id_number": number, "period": p, "employer_code": code,
               "reason": reason, "decided_by": decided_by}

    def decide() -> Decision:
        item = _item(ledger, serial)
        person = ledger.person(number)
        employer = ledger.employer(code or str(item.line["credit_code"]))
        person_id = str(person.id)
        if item.same_assignment(person_id, p, employer.credit_code):
            return Decision([], decision_result(item))  # the same decision again: a no-op
        item.check_decidable(reason, decided_by)
        schedule = rate_schedule(ledger.policy, target, employer.risk_class_on(p),
                                 (str(item.line["insurance"]),),
                                 Decimal(employer.work_injury_float))
        lines, assessed = assignment_lines(schedule, item.line, person.base_for(target.year))
        journal = posting_journal(person_id, lines, debit_account=SUSPENSE)
        # Exactly the item's money leaves suspense: no more, no less.
        assert journal[0] == [SUSPENSE, item.amount_fen, 0], (journal, item.amount_fen)
        month_id = ContributionMonth.create_id(person_id, p)
        source = SOURCE_PREFIX + serial
        month: ContributionMonth | None = ledger._get(month_id)
        if month is None:
            month = ContributionMonth(
                person_id=person_id, employer_code=employer.credit_code, period=p, lines=lines,
                journal=journal, source=source, serials=[serial], assessed=assessed)
        elif month.status == REVERSED:  # the month was voided (红冲): this posts it again
            month.repost(employer.credit_code, lines, journal, source, [serial], assessed)
        else:
            month.supplement(employer.credit_code, lines, journal, source, [serial], assessed)
        item.assign(person_id=person_id, id_number=number, period=p,
                    employer_code=employer.credit_code, month_id=str(month_id),
                    decided_by=decided_by, reason=reason)
        # One save: the decision and the posting it makes are recorded together or not at all.
        return Decision([item, month], decision_result(item))

    return ledger.execute("assign_suspense", payload, decide, idempotency_key)


def refund_suspense(c: Container | LedgerService, serial_no: str, reason: str, reference: str,
                    decided_by: str, idempotency_key: str | None = None) -> CommandResult:
    """Refund a suspense item through the tax bureau (journal suspense → bank:payout)."""
    ledger = _ledger(c)
    serial = _serial(serial_no)
    payload = {"serial_no": serial, "reason": reason, "reference": reference,
               "decided_by": decided_by}

    def decide() -> Decision:
        item = _item(ledger, serial)
        if isinstance(reference, str) and item.same_refund(reference):
            return Decision([], decision_result(item))
        item.refund(decided_by=decided_by, reason=reason, reference=reference)
        return Decision([item], decision_result(item))

    return ledger.execute("refund_suspense", payload, decide, idempotency_key)
