"""Benefit payments of the insurances other than the pension (失业、医疗、工伤、生育待遇支付),
imported from other systems' payment details (`BenefitPayment.Paid`, domain/benefit_payment.py):
one row per payment — person, insurance, benefit kind, the month it is for, the day it was paid,
amount, voucher, the file and line that brought it, the ledger day (China Standard Time) and the
log position. Rows are only ever added, so "paid as known at position P" is `position <= P`.

Read by the import (is a voucher on record, and with which details), the person's benefit
payments route and the annual report (expenditure and recipients per insurance)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.base import EventRecord, Projection, ViewCursor
from projections.fund_movements import ledger_day
from projections.pension_payments import uuid_text

TABLE = "benefit_payments"
PAID = "BenefitPayment.Paid"

COLUMNS = ("payment_id", "person_id", "insurance", "kind", "period", "paid_on", "amount_fen",
           "voucher", "file_sha256", "line_no", "day", "position", "recorded_at")


class BenefitPayments(Projection):
    name = "benefit_payments"
    version = 1
    tables = (TABLE,)
    event_types = (PAID,)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (payment_id TEXT PRIMARY KEY,"
            " person_id TEXT NOT NULL, insurance TEXT NOT NULL, kind TEXT NOT NULL,"
            " period TEXT NOT NULL, paid_on TEXT NOT NULL, amount_fen"
            f" {big} NOT NULL, voucher TEXT NOT NULL, file_sha256 TEXT NOT NULL,"
            f" line_no {big} NOT NULL, day TEXT NOT NULL, position {big} NOT NULL,"
            " recorded_at TEXT NOT NULL)",
        ]

    def index_statements(self, dialect: str) -> list[str]:
        return [
            f"CREATE INDEX IF NOT EXISTS {TABLE}_person ON {TABLE} (person_id, period)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_period ON {TABLE} (period)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_paid_on ON {TABLE} (paid_on)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_file ON {TABLE} (file_sha256)",
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        rows: list[tuple[Any, ...]] = []
        days: dict[str, str] = {}  # recorded hour and offset → CST day
        for record in page:
            if record.type_name != PAID:
                continue  # the page holds other projections' events too
            e = record.state
            hour = record.recorded_at[:13] + record.recorded_at[-6:]
            day = days.get(hour)
            if day is None:
                day = days[hour] = ledger_day(record.recorded_at)
            rows.append((uuid_text(record.originator_id), e["person_id"], e["insurance"],
                         e["kind"], e["period"], e["paid_on"], e["amount_fen"], e["voucher"],
                         e["file_sha256"], e["line_no"], day, record.position,
                         record.recorded_at))
        if rows:
            cur.copy_rows(TABLE, COLUMNS, rows)
