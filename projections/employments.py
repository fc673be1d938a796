"""Employment spells per person (from Person.EmploymentStarted / EmploymentEnded): who should
have been assessed for which month, for the arrears (欠费) report."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from projections.base import EventRecord, Projection, ViewCursor

TABLE = "employments"
OPEN_END = "9999-12-31"  # an open spell's end date, so that range queries need no NULL logic


class Employments(Projection):
    name = "employments"
    version = 1
    tables = (TABLE,)
    event_types = ("Person.EmploymentStarted", "Person.EmploymentEnded")

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (person_id TEXT NOT NULL,"
            " employer_code TEXT NOT NULL, start_date TEXT NOT NULL, end_date TEXT NOT NULL,"
            f" position {big} NOT NULL, PRIMARY KEY (person_id, start_date))"
        ]

    def index_statements(self, dialect: str) -> list[str]:
        return [f"CREATE INDEX IF NOT EXISTS {TABLE}_employer ON {TABLE}"
                " (employer_code, start_date)"]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        # In order: a spell ends only after it started (the Person aggregate guarantees it).
        for record in page:
            e = record.state
            person_id = str(UUID(hex=record.originator_id))
            if record.type_name == "Person.EmploymentStarted":
                cur.execute(
                    f"INSERT INTO {TABLE} (person_id, employer_code, start_date, end_date,"
                    " position) VALUES (?, ?, ?, ?, ?)",
                    (person_id, e["employer_code"], e["start_date"], OPEN_END, record.position))
            elif record.type_name == "Person.EmploymentEnded":
                cur.execute(
                    f"UPDATE {TABLE} SET end_date = ?, position = ? WHERE person_id = ?"
                    " AND employer_code = ? AND end_date = ?",
                    (e["end_date"], record.position, person_id, e["employer_code"], OPEN_END))
