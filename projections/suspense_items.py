"""Suspense items (暂收/挂账) and what became of them: one row per item, held by an import and
then assigned to a person-month or refunded by a clerk's recorded decision. The row keeps the
log position of the hold and of the decision, so that both can be traced to their events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from projections.base import EventRecord, Projection, ViewCursor

TABLE = "suspense_items"
COLUMNS = ("suspense_id", "serial_no", "batch_id", "line_no", "reason_code", "reason",
           "amount_fen", "insurance", "period", "id_number", "credit_code", "base_fen",
           "employer_fen", "individual_fen", "collected_on", "tax_batch", "status",
           "decided_by", "decision_reason", "assigned_person_id", "assigned_id_number",
           "assigned_period", "assigned_employer_code", "month_id", "refund_reference",
           "held_position", "held_at", "decided_position", "decided_at")
DECISION_COLUMNS = ("status", "decided_by", "decision_reason", "assigned_person_id",
                    "assigned_id_number", "assigned_period", "assigned_employer_code",
                    "month_id", "refund_reference", "decided_position", "decided_at")
HELD = "SuspenseItem.Held"
ASSIGNED = "SuspenseItem.Assigned"
REFUNDED = "SuspenseItem.Refunded"
REOPENED = "SuspenseItem.Reopened"  # its month was reversed: held again


def held_row(record: EventRecord) -> dict[str, Any]:
    e = record.state
    line: dict[str, Any] = e.get("line") or {}
    return {
        "suspense_id": str(UUID(hex=record.originator_id)), "serial_no": e["serial_no"],
        "batch_id": e["batch_id"], "line_no": e["line_no"], "reason_code": e["reason_code"],
        "reason": e["reason"], "amount_fen": int(e["amount_fen"]),
        "insurance": line.get("insurance"), "period": line.get("period"),
        "id_number": line.get("id_number"), "credit_code": line.get("credit_code"),
        "base_fen": line.get("base_fen"), "employer_fen": line.get("employer_fen"),
        "individual_fen": line.get("individual_fen"), "collected_on": line.get("collected_on"),
        "tax_batch": line.get("tax_batch"), "status": "held", "decided_by": None,
        "decision_reason": None, "assigned_person_id": None, "assigned_id_number": None,
        "assigned_period": None, "assigned_employer_code": None, "month_id": None,
        "refund_reference": None, "held_position": record.position,
        "held_at": record.recorded_at, "decided_position": None, "decided_at": None,
    }


def decision(record: EventRecord) -> dict[str, Any]:
    e = record.state
    if record.type_name == REOPENED:
        return {"status": "held", "decided_by": e["decided_by"],
                "decision_reason": f"reopened: {e['reason']}", "assigned_person_id": None,
                "assigned_id_number": None, "assigned_period": None,
                "assigned_employer_code": None, "month_id": None, "refund_reference": None,
                "decided_position": record.position, "decided_at": record.recorded_at}
    assigned = record.type_name == ASSIGNED
    return {
        "status": "assigned" if assigned else "refunded", "decided_by": e["decided_by"],
        "decision_reason": e["reason"],
        "assigned_person_id": e["person_id"] if assigned else None,
        "assigned_id_number": e["id_number"] if assigned else None,
        "assigned_period": e["period"] if assigned else None,
        "assigned_employer_code": e["employer_code"] if assigned else None,
        "month_id": e["month_id"] if assigned else None,
        "refund_reference": None if assigned else e["reference"],
        "decided_position": record.position, "decided_at": record.recorded_at,
    }


class SuspenseItems(Projection):
    name = "suspense_items"
    version = 1
    tables = (TABLE,)
    event_types = (HELD, ASSIGNED, REFUNDED, REOPENED)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} ("
            " suspense_id TEXT PRIMARY KEY, serial_no TEXT NOT NULL, batch_id TEXT NOT NULL,"
            " line_no INTEGER, reason_code TEXT NOT NULL, reason TEXT NOT NULL,"
            f" amount_fen {big} NOT NULL, insurance TEXT, period TEXT, id_number TEXT,"
            f" credit_code TEXT, base_fen {big}, employer_fen {big}, individual_fen {big},"
            " collected_on TEXT, tax_batch TEXT, status TEXT NOT NULL, decided_by TEXT,"
            " decision_reason TEXT, assigned_person_id TEXT, assigned_id_number TEXT,"
            " assigned_period TEXT, assigned_employer_code TEXT, month_id TEXT,"
            f" refund_reference TEXT, held_position {big} NOT NULL, held_at TEXT NOT NULL,"
            f" decided_position {big}, decided_at TEXT)",
        ]

    def index_statements(self, dialect: str) -> list[str]:
        return [
            f"CREATE UNIQUE INDEX IF NOT EXISTS {TABLE}_serial ON {TABLE} (serial_no)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_status ON {TABLE} (status, held_position)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_batch ON {TABLE} (batch_id, held_position)",
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        # Items held in this page are completed in memory (a decision always follows its hold
        # in the log); decisions on items of earlier pages are updates after the inserts.
        held: dict[str, dict[str, Any]] = {}
        updates: list[tuple[Any, ...]] = []
        for record in page:
            type_name = record.type_name
            if type_name == HELD:
                row = held_row(record)
                held[row["suspense_id"]] = row
                continue
            if type_name not in (ASSIGNED, REFUNDED, REOPENED):
                continue
            suspense_id = str(UUID(hex=record.originator_id))
            change = decision(record)
            if suspense_id in held:
                held[suspense_id].update(change)
            else:
                updates.append((*(change[c] for c in DECISION_COLUMNS), suspense_id))
        if held:
            cur.copy_rows(TABLE, COLUMNS, [tuple(row[c] for c in COLUMNS)
                                           for row in held.values()])
        if updates:
            assignments = ", ".join(f"{c} = ?" for c in DECISION_COLUMNS)
            cur.executemany(f"UPDATE {TABLE} SET {assignments} WHERE suspense_id = ?", updates)
