"""The access log (查询留痕): one row per recorded read of a person's record by staff — who,
when (China Standard Time), whose record (internal id, ID number and name masked), what and
why — for auditors to query by person, user and day. Nothing in it is clear personal data.

A batch read (AccessRecord.BatchRecorded: the yearly mailing) is one row with no person: it
read `persons_read` records, those of every person registered at or before `as_known_at`, and
produced the output whose sha256 is `output_sha256`. A person's entries include the batches
that read their record (infra/access_log.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from projections.base import EventRecord, Projection, ViewCursor
from projections.fund_movements import LEDGER_TIMEZONE

TABLE = "access_log"
RECORDED = "AccessRecord.Recorded"
BATCH_RECORDED = "AccessRecord.BatchRecorded"
COLUMNS = ("position", "accessed_at", "accessed_on", "username", "roles", "person_id",
           "id_number_masked", "name_masked", "resource", "target", "reason_code", "note",
           "request_id", "record_id", "persons_read", "as_known_at", "output_sha256")
BATCH_PERSON_ID = ""  # the person_id of a batch's row: it names no one person


def accessed_at_cst(recorded_at: str) -> str:
    """The event's recorded time (ISO 8601 with an offset) in China Standard Time, to the
    second: what an auditor reads and filters by day."""
    return datetime.fromisoformat(recorded_at).astimezone(LEDGER_TIMEZONE).isoformat(
        timespec="seconds")


class AccessLog(Projection):
    name = "access_log"
    version = 2  # 2: batch reads (persons_read, as_known_at, output_sha256)
    tables = (TABLE,)
    event_types = (RECORDED, BATCH_RECORDED)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (position {big} PRIMARY KEY,"
            " accessed_at TEXT NOT NULL, accessed_on TEXT NOT NULL, username TEXT NOT NULL,"
            " roles TEXT NOT NULL, person_id TEXT NOT NULL, id_number_masked TEXT NOT NULL,"
            " name_masked TEXT NOT NULL, resource TEXT NOT NULL, target TEXT NOT NULL,"
            " reason_code TEXT NOT NULL, note TEXT NOT NULL, request_id TEXT NOT NULL,"
            f" record_id TEXT NOT NULL, persons_read {big} NOT NULL, as_known_at {big},"
            " output_sha256 TEXT)"
        ]

    def index_statements(self, dialect: str) -> list[str]:
        return [
            f"CREATE INDEX IF NOT EXISTS {TABLE}_person ON {TABLE} (person_id, position)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_user ON {TABLE} (username, position)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_day ON {TABLE} (accessed_on, position)",
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        rows: list[tuple[Any, ...]] = []
        for record in page:
            if record.type_name == RECORDED:
                e = record.state
                at = accessed_at_cst(record.recorded_at)
                rows.append((record.position, at, at[:10], e["username"], ",".join(e["roles"]),
                             e["person_id"], e["id_number_masked"], e["name_masked"],
                             e["resource"], e["target"], e["reason_code"], e["note"],
                             e["request_id"], str(UUID(hex=record.originator_id)), 1, None,
                             None))
            elif record.type_name == BATCH_RECORDED:
                e = record.state
                at = accessed_at_cst(record.recorded_at)
                rows.append((record.position, at, at[:10], e["username"], ",".join(e["roles"]),
                             BATCH_PERSON_ID, "", "", e["resource"], e["target"],
                             e["reason_code"], e["note"], e["request_id"],
                             str(UUID(hex=record.originator_id)), e["persons_read"],
                             e["as_known_at"], e["output_sha256"]))
        if rows:
            cur.copy_rows(TABLE, COLUMNS, rows)
