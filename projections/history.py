"""Contribution history per person: one row per posting, reversal and re-posting of a month,
with the amounts per party and the lines per insurance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from projections.base import EventRecord, Projection, ViewCursor

TABLE = "contribution_history"
COLUMNS = ("person_id", "period", "kind", "employer_code", "employer_fen", "individual_fen",
           "account_fen", "lines", "position", "recorded_at")

KINDS = {
    "ContributionMonth.Posted": ("posted", 1),
    "ContributionMonth.Reposted": ("posted", 1),
    # Lines added to a posted month (money assigned out of suspense): the added amounts only.
    "ContributionMonth.Supplemented": ("posted", 1),
    "ContributionMonth.Reversed": ("reversed", -1),
}


class ContributionHistory(Projection):
    name = "contribution_history"
    version = 1
    tables = (TABLE,)
    event_types = tuple(KINDS)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} ("
            " person_id TEXT NOT NULL, period TEXT NOT NULL, kind TEXT NOT NULL,"
            f" employer_code TEXT NOT NULL, employer_fen {big} NOT NULL,"
            f" individual_fen {big} NOT NULL, account_fen {big} NOT NULL, lines TEXT NOT NULL,"
            f" position {big} NOT NULL, recorded_at TEXT NOT NULL)",
        ]

    def cluster_indexes(self) -> dict[str, str]:
        return {TABLE: f"{TABLE}_person"}

    def index_statements(self, dialect: str) -> list[str]:
        return [f"CREATE INDEX IF NOT EXISTS {TABLE}_person ON {TABLE} (person_id, period)"]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        rows: list[tuple[Any, ...]] = []
        for record in page:
            found = KINDS.get(record.type_name)
            if found is None:
                continue
            kind, sign = found
            e = record.state
            lines = e["lines"]
            employer = individual = account = 0
            for _ins, _base, employer_fen, individual_fen, account_fen in lines:
                employer += employer_fen
                individual += individual_fen
                account += account_fen
            rows.append((e["person_id"], e["period"], kind, e["employer_code"], sign * employer,
                         sign * individual, sign * account, orjson.dumps(lines).decode(),
                         record.position, record.recorded_at))
        if rows:
            cur.copy_rows(TABLE, COLUMNS, rows)
