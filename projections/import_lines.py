"""What became of each line of an imported collection file, as recorded in the log: one row per
source line that reached the ledger (posted in a person-month, or held in suspense), and one row
per import batch with its summary. The reconciliation report (infra/reconciliation_report.py)
reads these tables; every row keeps the log position of the event it comes from, so that a line
can be traced to its event.

Lines that did not reach the ledger are not here: a duplicate wrote nothing (its month or
suspense item is on record from an earlier import), and a rejected line is in the rejects file.
The batch's summary counts both."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson

from projections.base import EventRecord, Projection, ViewCursor

LINES = "import_lines"
BATCHES = "import_batches"
TAX_SOURCE_PREFIX = "tax:"  # `source` of a posting made from a collection file: tax:<batch id>

POSTED = "posted"
SUSPENSE = "suspense"

LINE_COLUMNS = ("batch_id", "serial_no", "line_no", "outcome", "employer_code", "insurance",
                "period", "person_id", "id_number", "reason_code", "reason", "amount_fen",
                "month_id", "suspense_id", "position", "recorded_at")
BATCH_COLUMNS = ("batch_id", "kind", "file_name", "sha256", "size_bytes", "started_by",
                 "started_position", "started_at")

POSTING_EVENTS = ("ContributionMonth.Posted", "ContributionMonth.Reposted")
HELD = "SuspenseItem.Held"
STARTED = "ImportBatch.Started"
COMPLETED = "ImportBatch.Completed"


def _uuid_text(hex_id: str) -> str:
    return str(UUID(hex=hex_id))


def posted_rows(record: EventRecord) -> list[tuple[Any, ...]]:
    """One row per serial number of a posting made from a collection file. The importer posts a
    month's lines in the order of its serial numbers, so serial i is line i of the event."""
    e = record.state
    source = e.get("source") or ""
    serials: list[str] = e.get("serials") or []
    if not source.startswith(TAX_SOURCE_PREFIX) or not serials:
        return []
    batch_id = source[len(TAX_SOURCE_PREFIX):]
    month_id = _uuid_text(record.originator_id)
    lines: list[list[Any]] = e["lines"]
    paired = len(lines) == len(serials)
    month_fen = sum(int(line[2]) + int(line[3]) for line in lines)
    rows: list[tuple[Any, ...]] = []
    for i, serial in enumerate(serials):
        if paired:
            insurance: str | None = lines[i][0]
            amount_fen = int(lines[i][2]) + int(lines[i][3])
        else:
            # Not made by the importer: no line per serial. The month's total goes on its first
            # serial, so that the totals still add up.
            insurance, amount_fen = None, month_fen if i == 0 else 0
        rows.append((batch_id, serial, None, POSTED, e["employer_code"], insurance, e["period"],
                     e["person_id"], None, None, None, amount_fen, month_id, None,
                     record.position, record.recorded_at))
    return rows


def held_row(record: EventRecord) -> tuple[Any, ...]:
    e = record.state
    line: dict[str, Any] = e.get("line") or {}
    return (e["batch_id"], e["serial_no"], e["line_no"], SUSPENSE, line.get("credit_code"),
            line.get("insurance"), line.get("period"), None, line.get("id_number"),
            e["reason_code"], e["reason"], int(e["amount_fen"]), None,
            _uuid_text(record.originator_id), record.position, record.recorded_at)


class ImportLines(Projection):
    name = "import_lines"
    version = 1
    tables = (LINES, BATCHES)
    event_types = (*POSTING_EVENTS, HELD, STARTED, COMPLETED)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {LINES} ("
            " batch_id TEXT NOT NULL, serial_no TEXT NOT NULL, line_no INTEGER,"
            " outcome TEXT NOT NULL, employer_code TEXT, insurance TEXT, period TEXT,"
            " person_id TEXT, id_number TEXT, reason_code TEXT, reason TEXT,"
            f" amount_fen {big} NOT NULL, month_id TEXT, suspense_id TEXT,"
            f" position {big} NOT NULL, recorded_at TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {BATCHES} ("
            " batch_id TEXT PRIMARY KEY, kind TEXT NOT NULL, file_name TEXT NOT NULL,"
            f" sha256 TEXT NOT NULL, size_bytes {big} NOT NULL, started_by TEXT NOT NULL,"
            f" started_position {big} NOT NULL, started_at TEXT NOT NULL, summary TEXT,"
            f" rejects_sha256 TEXT, completed_position {big}, completed_at TEXT)",
        ]

    def index_statements(self, dialect: str) -> list[str]:
        return [
            f"CREATE INDEX IF NOT EXISTS {LINES}_batch ON {LINES} (batch_id, position, serial_no)",
            f"CREATE INDEX IF NOT EXISTS {BATCHES}_sha256 ON {BATCHES} (sha256)",
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        lines: list[tuple[Any, ...]] = []
        started: list[tuple[Any, ...]] = []
        completed: list[tuple[Any, ...]] = []
        for record in page:
            type_name = record.type_name
            if type_name == HELD:
                lines.append(held_row(record))
            elif type_name in POSTING_EVENTS:
                lines.extend(posted_rows(record))
            elif type_name == STARTED:
                e = record.state
                started.append((_uuid_text(record.originator_id), e["kind"], e["file_name"],
                                e["sha256"], int(e["size_bytes"]), e["started_by"],
                                record.position, record.recorded_at))
            elif type_name == COMPLETED:
                e = record.state
                completed.append((orjson.dumps(e["summary"]).decode(), e.get("rejects_sha256"),
                                  record.position, record.recorded_at,
                                  _uuid_text(record.originator_id)))
        if lines:
            cur.copy_rows(LINES, LINE_COLUMNS, lines)
        # A batch is started before it completes, so in a page its Started comes first.
        if started:
            cur.copy_rows(BATCHES, BATCH_COLUMNS, started)
        if completed:
            cur.executemany(
                f"UPDATE {BATCHES} SET summary = ?, rejects_sha256 = ?, completed_position = ?,"
                " completed_at = ? WHERE batch_id = ?", completed)
