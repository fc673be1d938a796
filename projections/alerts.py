"""Alerts of the risk monitor (风险预警) for the auditors' lists: one row per alert with its
rule, severity, status, the person and staff it concerns, its summary, the events it links to,
and who acknowledged and closed it when (domain/alert.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson

from projections.base import EventRecord, Projection, ViewCursor

TABLE = "alerts"
RAISED = "Alert.Raised"
ACKNOWLEDGED = "Alert.Acknowledged"
CLOSED = "Alert.Closed"
COLUMNS = ("alert_id", "rule_code", "rule_name_zh", "severity", "status", "person_id",
           "actors", "summary_zh", "details", "events", "raised_position", "raised_at",
           "acknowledged_by", "acknowledgement_note", "acknowledged_position",
           "acknowledged_at", "closed_by", "resolution", "closed_position", "closed_at")
JSON_COLUMNS = ("actors", "details", "events")


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


class Alerts(Projection):
    name = "alerts"
    version = 1
    tables = (TABLE,)
    event_types = (RAISED, ACKNOWLEDGED, CLOSED)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (alert_id TEXT PRIMARY KEY,"
            " rule_code TEXT NOT NULL, rule_name_zh TEXT NOT NULL, severity TEXT NOT NULL,"
            " status TEXT NOT NULL, person_id TEXT, actors TEXT NOT NULL,"
            " summary_zh TEXT NOT NULL, details TEXT NOT NULL, events TEXT NOT NULL,"
            f" raised_position {big} NOT NULL, raised_at TEXT NOT NULL, acknowledged_by TEXT,"
            f" acknowledgement_note TEXT, acknowledged_position {big}, acknowledged_at TEXT,"
            f" closed_by TEXT, resolution TEXT, closed_position {big}, closed_at TEXT)",
        ]

    def index_statements(self, dialect: str) -> list[str]:
        return [
            f"CREATE INDEX IF NOT EXISTS {TABLE}_status ON {TABLE} (status, raised_position)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_rule ON {TABLE} (rule_code, raised_position)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_person ON {TABLE} (person_id, raised_position)",
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        raised: list[tuple[Any, ...]] = []
        decisions: list[tuple[str, tuple[Any, ...]]] = []
        for record in page:
            if record.type_name not in self.event_types:
                continue
            e = record.state
            alert_id = str(UUID(hex=record.originator_id))
            if record.type_name == RAISED:
                raised.append((
                    alert_id, e["rule_code"], e["rule_name_zh"], e["severity"], "raised",
                    e["person_id"], _json(e["actors"]), e["summary_zh"], _json(e["details"]),
                    _json(e["events"]), record.position, record.recorded_at, None, None, None,
                    None, None, None, None, None))
            elif record.type_name == ACKNOWLEDGED:
                decisions.append((
                    f"UPDATE {TABLE} SET status = 'acknowledged', acknowledged_by = ?,"
                    " acknowledgement_note = ?, acknowledged_position = ?, acknowledged_at = ?"
                    " WHERE alert_id = ?",
                    (e["by"], e["note"], record.position, record.recorded_at, alert_id)))
            else:
                decisions.append((
                    f"UPDATE {TABLE} SET status = 'closed', closed_by = ?, resolution = ?,"
                    " closed_position = ?, closed_at = ? WHERE alert_id = ?",
                    (e["by"], e["resolution"], record.position, record.recorded_at, alert_id)))
        # Rows of this page first: a decision may follow its alert in the same page.
        if raised:
            cur.copy_rows(TABLE, COLUMNS, raised)
        for sql, params in decisions:
            cur.execute(sql, params)
