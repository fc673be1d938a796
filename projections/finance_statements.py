"""Imported statements of the finance special account (财政专户对账单), as recorded in the log:
one row per statement (`finance_statements`) and one per statement line
(`finance_statement_lines`). The statement is the finance bureau's record, never posted to the
ledger; the finance reconciliation (infra/finance_reconciliation.py) compares these rows with
the ledger's fund movements (projections/fund_movements.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from projections.base import EventRecord, Projection, ViewCursor

STATEMENTS = "finance_statements"
LINES = "finance_statement_lines"
IMPORTED = "FinanceStatement.Imported"

STATEMENT_COLUMNS = ("statement_id", "file_name", "sha256", "size_bytes", "imported_by",
                     "line_count", "rejected_count", "rejects_sha256", "receipts_fen",
                     "payments_fen", "first_date", "last_date", "position", "recorded_at")
LINE_COLUMNS = ("statement_id", "line_no", "booking_date", "month", "insurance", "direction",
                "amount_fen", "voucher", "memo", "position")


def statement_rows(record: EventRecord) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    e = record.state
    statement_id = str(UUID(hex=record.originator_id))
    lines: list[tuple[Any, ...]] = []
    totals = {"receipt": 0, "payment": 0}
    for booking_date, insurance, direction, amount_fen, voucher, memo, line_no in e["lines"]:
        lines.append((statement_id, int(line_no), booking_date, booking_date[:7], insurance,
                      direction, int(amount_fen), voucher, memo, record.position))
        totals[direction] += int(amount_fen)
    dates = [line[2] for line in lines]
    statement = (statement_id, e["file_name"], e["sha256"], int(e["size_bytes"]),
                 e["imported_by"], len(lines), int(e["rejected_count"]), e.get("rejects_sha256"),
                 totals["receipt"], totals["payment"], min(dates, default=None),
                 max(dates, default=None), record.position, record.recorded_at)
    return statement, lines


class FinanceStatements(Projection):
    name = "finance_statements"
    version = 1
    tables = (STATEMENTS, LINES)
    event_types = (IMPORTED,)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {STATEMENTS} ("
            " statement_id TEXT PRIMARY KEY, file_name TEXT NOT NULL, sha256 TEXT NOT NULL,"
            f" size_bytes {big} NOT NULL, imported_by TEXT NOT NULL,"
            f" line_count {big} NOT NULL, rejected_count {big} NOT NULL, rejects_sha256 TEXT,"
            f" receipts_fen {big} NOT NULL, payments_fen {big} NOT NULL, first_date TEXT,"
            f" last_date TEXT, position {big} NOT NULL, recorded_at TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {LINES} ("
            " statement_id TEXT NOT NULL, line_no INTEGER NOT NULL, booking_date TEXT NOT NULL,"
            " month TEXT NOT NULL, insurance TEXT NOT NULL, direction TEXT NOT NULL,"
            f" amount_fen {big} NOT NULL, voucher TEXT NOT NULL, memo TEXT NOT NULL,"
            f" position {big} NOT NULL)",
        ]

    def index_statements(self, dialect: str) -> list[str]:
        return [
            f"CREATE INDEX IF NOT EXISTS {LINES}_date ON {LINES} (booking_date, insurance)",
            f"CREATE INDEX IF NOT EXISTS {LINES}_voucher ON {LINES} (month, voucher, insurance)",
            f"CREATE INDEX IF NOT EXISTS {LINES}_statement ON {LINES} (statement_id, line_no)",
            f"CREATE INDEX IF NOT EXISTS {STATEMENTS}_sha256 ON {STATEMENTS} (sha256)",
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        statements: list[tuple[Any, ...]] = []
        lines: list[tuple[Any, ...]] = []
        for record in page:
            if record.type_name == IMPORTED:
                statement, rows = statement_rows(record)
                statements.append(statement)
                lines.extend(rows)
        if statements:
            cur.copy_rows(STATEMENTS, STATEMENT_COLUMNS, statements)
        if lines:
            cur.copy_rows(LINES, LINE_COLUMNS, lines)
