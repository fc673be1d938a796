"""SuspenseItem (暂收/挂账): money the tax bureau collected that cannot be posted to a person's
month (unknown person or employer, no assessment, collected twice, …). It is keyed by the tax
serial number, held with a balanced journal (clearing → suspense), and leaves suspense only by a
recorded decision: assignment to a person and period (the money is posted into that
person-month in the same transaction, the posting naming the item's serial number) or refund
(returned through the tax bureau: suspense → bank:payout). Either is made once; the same
decision again is recognised (`same_assignment`, `same_refund`) so that a replay is a no-op.
When the month an item was assigned to is reversed (红冲), the reversal's journal returns the
money to suspense and the item is `Reopened` in the same transaction: held again, to be assigned
or refunded anew, so that every fen in suspense has an item that owns it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.assessment import MonthLine, RateSchedule, collected_lines, month_lines
from domain.errors import Conflict, ValidationFailed
from domain.ids import region_namespace
from domain.journal import BANK_PAYOUT, CLEARING_TAX, SUSPENSE, JournalLine, assert_balanced

HELD = "held"
ASSIGNED = "assigned"
REFUNDED = "refunded"
STATUSES = (HELD, ASSIGNED, REFUNDED)
DECIDED_BY_LENGTH_MAX = 100


def suspense_journal(amount_fen: int) -> list[JournalLine]:
    journal: list[JournalLine] = [[CLEARING_TAX, amount_fen, 0], [SUSPENSE, 0, amount_fen]]
    assert_balanced(journal)
    return journal


def refund_journal(amount_fen: int) -> list[JournalLine]:
    """Money returned to the payer through the tax bureau (退费): out of suspense."""
    journal: list[JournalLine] = [[SUSPENSE, amount_fen, 0], [BANK_PAYOUT, 0, amount_fen]]
    assert_balanced(journal)
    return journal


def assignment_lines(schedule: RateSchedule, line: dict[str, Any], base_fen: int | None
                     ) -> tuple[list[MonthLine], list[MonthLine] | None]:
    """The month line to post for a suspense item's collected line, as collected (the money is
    there), and the assessment (应收) from the declared base when there is one and it differs.
    `schedule` is for the assigned period and employer, with the item's insurance only."""
    collected = ((str(line["insurance"]), int(line["base_fen"]), int(line["employer_fen"]),
                  int(line["individual_fen"])),)
    if base_fen is None:
        return collected_lines(schedule, collected), None
    return month_lines(schedule, base_fen, collected)


def _required(text: str, field: str, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed(f"{field}_missing", f"{what} must not be empty", field=field)
    return text.strip()


class SuspenseItem(Aggregate):
    @staticmethod
    def create_id(region_code: str, serial_no: str) -> UUID:
        from domain.ids import fast_uuid5

        return fast_uuid5(region_namespace(region_code), f"suspense/{serial_no}")

    @event("Held")
    def __init__(
        self,
        region_code: str,
        serial_no: str,
        batch_id: str,
        line_no: int,
        line: dict[str, Any],
        amount_fen: int,
        reason_code: str,
        reason: str,
        journal: list[list[Any]],
    ) -> None:
        self.serial_no = serial_no
        self.batch_id = batch_id
        self.line_no = line_no
        self.line = line
        self.amount_fen = amount_fen
        self.reason_code = reason_code
        self.status = HELD
        self.decided_by: str | None = None
        self.decision_reason: str | None = None
        self.person_id: str | None = None
        self.id_number: str | None = None
        self.period: str | None = None
        self.employer_code: str | None = None
        self.month_id: str | None = None
        self.reference: str | None = None

    # -- decisions -------------------------------------------------------------------------

    def check_decidable(self, reason: str, decided_by: str) -> tuple[str, str]:
        """The reason and the deciding user, stripped; refuses an item decided already."""
        if self.status != HELD:
            raise Conflict(
                "suspense_already_decided",
                f"suspense item {self.serial_no} is {self.status} already (by "
                f"{self.decided_by}); a decision is made once",
                field="serial_no",
            )
        reason = _required(reason, "reason", "the reason for the decision")
        user = _required(decided_by, "decided_by", "decided_by (the deciding user)")
        if len(user) > DECIDED_BY_LENGTH_MAX:
            raise ValidationFailed("decided_by_too_long",
                                   f"decided_by is over {DECIDED_BY_LENGTH_MAX} characters",
                                   field="decided_by")
        return reason, user

    def same_assignment(self, person_id: str, period: str, employer_code: str) -> bool:
        return self.status == ASSIGNED and (self.person_id, self.period, self.employer_code) == (
            person_id, period, employer_code)

    def same_refund(self, reference: str) -> bool:
        return self.status == REFUNDED and self.reference == reference.strip()

    def assign(self, person_id: str, id_number: str, period: str, employer_code: str,
               month_id: str, decided_by: str, reason: str) -> None:
        """Record that the money belongs to this person-month. The caller saves the posting
        into that month (journal debiting `suspense`) with this event, in one transaction."""
        reason, user = self.check_decidable(reason, decided_by)
        self._assigned(person_id=person_id, id_number=id_number, period=period,
                       employer_code=employer_code, month_id=month_id, decided_by=user,
                       reason=reason)

    @event("Assigned")
    def _assigned(self, person_id: str, id_number: str, period: str, employer_code: str,
                  month_id: str, decided_by: str, reason: str) -> None:
        self.status = ASSIGNED
        self.person_id = person_id
        self.id_number = id_number
        self.period = period
        self.employer_code = employer_code
        self.month_id = month_id
        self.decided_by = decided_by
        self.decision_reason = reason

    def refund(self, decided_by: str, reason: str, reference: str) -> None:
        """Record that the money goes back to the payer through the tax bureau; `reference` is
        the refund voucher (退费凭证) the tax bureau endorsed."""
        reason, user = self.check_decidable(reason, decided_by)
        ref = _required(reference, "reference", "the refund reference (退费凭证号)")
        self._refunded(decided_by=user, reason=reason, reference=ref,
                       journal=refund_journal(self.amount_fen))

    def assigned_to(self, month_id: str) -> bool:
        return self.status == ASSIGNED and self.month_id == month_id

    def reopen(self, month_id: str, reason: str, source: str) -> None:
        """The month this item was assigned to is being reversed: the item is held again. The
        money's way back into suspense is the reversal's journal, saved with this event."""
        if not self.assigned_to(month_id):
            raise Conflict(
                "suspense_not_assigned_to_month",
                f"suspense item {self.serial_no} is not assigned to month {month_id}",
                field="serial_no",
            )
        self._reopened(month_id=month_id, reason=reason, decided_by=source)

    @event("Reopened")
    def _reopened(self, month_id: str, reason: str, decided_by: str) -> None:
        self.status = HELD
        self.person_id = self.id_number = self.period = self.employer_code = None
        self.month_id = None
        self.decided_by = decided_by
        self.decision_reason = reason

    @event("Refunded")
    def _refunded(self, decided_by: str, reason: str, reference: str,
                  journal: list[list[Any]]) -> None:
        self.status = REFUNDED
        self.decided_by = decided_by
        self.decision_reason = reason
        self.reference = reference
