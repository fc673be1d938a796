"""Back-payments (补缴) and their months: one row per assessment with its status and figures,
and one row per back-paid month, so that the collection import can tell a month an open
assessment covers (its collected lines are held, not posted as an ordinary month), and the
console and reports can list back-payments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from projections.base import EventRecord, Projection, ViewCursor

TABLE = "backpayments"
MONTHS = "backpay_months"
ASSESSED = "BackPayment.Assessed"
COLLECTED = "BackPayment.Collected"
CANCELLED = "BackPayment.Cancelled"
COLUMNS = ("backpay_id", "person_id", "id_number", "employer_code", "status", "first_period",
           "last_period", "months", "pay_by", "principal_fen", "late_fee_fen", "interest_fen",
           "total_fen", "assessed_by", "reason", "assessed_position", "assessed_at",
           "collected_on", "tax_serial", "decided_by", "decided_position", "decided_at")
MONTH_COLUMNS = ("backpay_id", "person_id", "period", "status")


class BackPayments(Projection):
    name = "backpayments"
    version = 1
    tables = (TABLE, MONTHS)
    event_types = (ASSESSED, COLLECTED, CANCELLED)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (backpay_id TEXT PRIMARY KEY,"
            " person_id TEXT NOT NULL, id_number TEXT NOT NULL, employer_code TEXT NOT NULL,"
            " status TEXT NOT NULL, first_period TEXT NOT NULL, last_period TEXT NOT NULL,"
            f" months INTEGER NOT NULL, pay_by TEXT NOT NULL, principal_fen {big} NOT NULL,"
            f" late_fee_fen {big} NOT NULL, interest_fen {big} NOT NULL,"
            f" total_fen {big} NOT NULL, assessed_by TEXT NOT NULL, reason TEXT NOT NULL,"
            f" assessed_position {big} NOT NULL, assessed_at TEXT NOT NULL, collected_on TEXT,"
            f" tax_serial TEXT, decided_by TEXT, decided_position {big}, decided_at TEXT)",
            f"CREATE TABLE IF NOT EXISTS {MONTHS} (backpay_id TEXT NOT NULL,"
            " person_id TEXT NOT NULL, period TEXT NOT NULL, status TEXT NOT NULL,"
            " PRIMARY KEY (backpay_id, period))",
        ]

    def index_statements(self, dialect: str) -> list[str]:
        return [
            f"CREATE INDEX IF NOT EXISTS {MONTHS}_person ON {MONTHS} (person_id, period)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_status ON {TABLE} (status, assessed_position)",
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        assessed: list[tuple[Any, ...]] = []
        months: list[tuple[Any, ...]] = []
        decided: list[tuple[Any, ...]] = []
        for record in page:
            if record.type_name not in self.event_types:
                continue
            e = record.state
            backpay_id = str(UUID(hex=record.originator_id))
            if record.type_name == ASSESSED:
                periods = [str(m["period"]) for m in e["months"]]
                principal = int(e["principal_fen"])
                fee, interest = int(e["late_fee_fen"]), int(e["interest_fen"])
                assessed.append((
                    backpay_id, e["person_id"], e["id_number"], e["employer_code"], "assessed",
                    periods[0], periods[-1], len(periods), e["pay_by"], principal, fee,
                    interest, principal + fee + interest, e["assessed_by"], e["reason"],
                    record.position, record.recorded_at, None, None, None, None, None))
                months.extend((backpay_id, e["person_id"], p, "assessed") for p in periods)
            elif record.type_name == COLLECTED:
                decided.append(("collected", e["collected_on"], e["tax_serial"],
                                e["collected_by"], record.position, record.recorded_at,
                                backpay_id))
            else:
                decided.append(("cancelled", None, None, e["cancelled_by"], record.position,
                                record.recorded_at, backpay_id))
        # Rows of this page first: a decision may follow its assessment in the same page.
        if assessed:
            cur.copy_rows(TABLE, COLUMNS, assessed)
            cur.copy_rows(MONTHS, MONTH_COLUMNS, months)
        if decided:
            cur.executemany(
                f"UPDATE {TABLE} SET status = ?, collected_on = ?, tax_serial = ?,"
                " decided_by = ?, decided_position = ?, decided_at = ? WHERE backpay_id = ?",
                decided)
            cur.executemany(f"UPDATE {MONTHS} SET status = ? WHERE backpay_id = ?",
                            [(row[0], row[-1]) for row in decided])
