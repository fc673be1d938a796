"""SuspenseItem (暂收/挂账): money the tax bureau collected that cannot be posted to a person's
month (unknown person or employer, no assessment, collected twice, …). It is keyed by the tax
serial number, held with a balanced journal (clearing → suspense), and leaves suspense only by a
recorded decision (assignment or refund: a later issue)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import region_namespace
from domain.journal import CLEARING_TAX, SUSPENSE, JournalLine, assert_balanced

HELD = "held"


def suspense_journal(amount_fen: int) -> list[JournalLine]:
    journal: list[JournalLine] = [[CLEARING_TAX, amount_fen, 0], [SUSPENSE, 0, amount_fen]]
    assert_balanced(journal)
    return journal


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
        self.amount_fen = amount_fen
        self.reason_code = reason_code
        self.status = HELD
