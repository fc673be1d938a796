"""Pension transfers between pooling regions (跨统筹区转移接续, domain/transfer.py): one row per
transfer, in or out, as it stands — accepted and waiting for the old region's funds, posted,
cancelled, or remitted — with its amounts and the months it moved (JSON `[from, to,
base_fen]` runs).

What reads it: the transfer lists and overdue queue (`GET /v1/transfers`), a person's
transfers, the months a pension award counts (infra/pension_service.pension_months), and the
annual report's transfers in and out (infra/annual_report_queries.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson

from domain.transfer import ACCEPTED, CANCELLED, IN, OUT, POSTED, REMITTED
from projections.base import EventRecord, Projection, ViewCursor

TABLE = "pension_transfers"
COLUMNS = ("transfer_id", "transfer_no", "direction", "person_id", "other_region_code",
           "other_region_name", "status", "opened_on", "due_on", "completed_on",
           "account_fen", "pooled_fen", "total_fen", "contribution_months", "months",
           "opened_position", "completed_position")
ACCEPTED_EVENT = "PensionTransferIn.Accepted"
POSTED_EVENT = "PensionTransferIn.Posted"
CANCELLED_EVENT = "PensionTransferIn.Cancelled"
REMITTED_EVENT = "PensionTransferOut.Remitted"


class PensionTransfers(Projection):
    name = "pension_transfers"
    version = 1
    tables = (TABLE,)
    event_types = (ACCEPTED_EVENT, POSTED_EVENT, CANCELLED_EVENT, REMITTED_EVENT)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (transfer_id TEXT PRIMARY KEY,"
            " transfer_no TEXT NOT NULL, direction TEXT NOT NULL, person_id TEXT NOT NULL,"
            " other_region_code TEXT NOT NULL, other_region_name TEXT NOT NULL,"
            " status TEXT NOT NULL, opened_on TEXT NOT NULL, due_on TEXT,"
            f" completed_on TEXT, account_fen {big}, pooled_fen {big}, total_fen {big},"
            f" contribution_months {big}, months TEXT, opened_position {big} NOT NULL,"
            f" completed_position {big})",
        ]

    def index_statements(self, dialect: str) -> list[str]:
        return [f"CREATE INDEX IF NOT EXISTS {TABLE}_person ON {TABLE} (person_id)",
                f"CREATE INDEX IF NOT EXISTS {TABLE}_status ON {TABLE} (status, due_on)"]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        # Few and far between (a region sees hundreds a year): a statement per event is fine.
        for record in page:
            e = record.state
            transfer_id = str(UUID(hex=record.originator_id))
            if record.type_name == ACCEPTED_EVENT:
                cur.execute(
                    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES"
                    f" ({', '.join('?' * len(COLUMNS))})",
                    (transfer_id, e["transfer_no"], IN, e["person_id"], e["from_region_code"],
                     e["from_region_name"], ACCEPTED, e["accepted_on"], e["funds_due_on"],
                     None, None, None, None, None, None, record.position, None))
            elif record.type_name == POSTED_EVENT:
                cur.execute(
                    f"UPDATE {TABLE} SET status = ?, completed_on = ?, account_fen = ?,"
                    " pooled_fen = ?, total_fen = ?, contribution_months = ?, months = ?,"
                    " completed_position = ? WHERE transfer_id = ?",
                    (POSTED, e["posted_on"], e["account_fen"], e["pooled_fen"], e["total_fen"],
                     e["contribution_months"], _months(e), record.position, transfer_id))
            elif record.type_name == CANCELLED_EVENT:
                cur.execute(f"UPDATE {TABLE} SET status = ?, completed_on = ?,"
                            " completed_position = ? WHERE transfer_id = ?",
                            (CANCELLED, e["cancelled_on"], record.position, transfer_id))
            elif record.type_name == REMITTED_EVENT:
                cur.execute(
                    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES"
                    f" ({', '.join('?' * len(COLUMNS))})",
                    (transfer_id, e["transfer_no"], OUT, e["person_id"], e["to_region_code"],
                     e["to_region_name"], REMITTED, e["letter_received_on"], None,
                     e["remitted_on"], e["account_fen"], e["pooled_fen"], e["total_fen"],
                     e["contribution_months"], _months(e), record.position, record.position))


def _months(state: dict[str, Any]) -> str:
    return orjson.dumps(state["months"]).decode()
