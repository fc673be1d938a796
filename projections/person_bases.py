"""Declared contribution bases (缴费基数) per person and year, and who a person is by ID number:
what matching a tax collection file needs in bulk, without loading one aggregate per person."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from projections.base import EventRecord, Projection, ViewCursor

BASES = "person_bases"


class PersonBases(Projection):
    name = "person_bases"
    version = 1
    tables = (BASES,)
    event_types = ("Person.BaseDeclared",)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {BASES} (person_id TEXT NOT NULL, year INTEGER NOT NULL,"
            f" declared_wage_fen {big} NOT NULL, base_fen {big} NOT NULL,"
            f" position {big} NOT NULL, PRIMARY KEY (person_id, year))"
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        latest: dict[tuple[str, int], tuple[Any, ...]] = {}
        for record in page:
            if record.type_name != "Person.BaseDeclared":
                continue
            e = record.state
            person_id = str(UUID(hex=record.originator_id))
            latest[(person_id, e["year"])] = (person_id, e["year"], e["declared_wage_fen"],
                                              e["base_fen"], record.position)
        if latest:
            cur.executemany(
                f"INSERT INTO {BASES} (person_id, year, declared_wage_fen, base_fen, position)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (person_id, year) DO UPDATE SET"
                " declared_wage_fen = excluded.declared_wage_fen,"
                " base_fen = excluded.base_fen, position = excluded.position",
                list(latest.values()),
            )
