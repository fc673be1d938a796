"""Benefit-eligibility certifications (待遇资格认证): `pension_certifications`, one row per
`Certification.Recorded` — person, day certified, method and source, the ledger day it was
recorded (China Standard Time) and the log position. Rows are only ever added.

The payment run (infra/pension_payments.py) reads it to find suspended months and back pay;
the overdue list and the annual report read it with `pension_entitlements`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.base import EventRecord, Projection, ViewCursor
from projections.fund_movements import ledger_day
from projections.pension_payments import uuid_text

CERTIFICATIONS = "pension_certifications"
RECORDED = "Certification.Recorded"
COLUMNS = ("certification_id", "person_id", "certified_on", "method", "source", "day",
           "position")


class PensionCertifications(Projection):
    name = "pension_certifications"
    version = 1
    tables = (CERTIFICATIONS,)
    event_types = (RECORDED,)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {CERTIFICATIONS} (certification_id TEXT PRIMARY KEY,"
            " person_id TEXT NOT NULL, certified_on TEXT NOT NULL, method TEXT NOT NULL,"
            f" source TEXT NOT NULL, day TEXT NOT NULL, position {big} NOT NULL)",
        ]

    def index_statements(self, dialect: str) -> list[str]:
        return [f"CREATE INDEX IF NOT EXISTS {CERTIFICATIONS}_person ON {CERTIFICATIONS}"
                " (person_id, certified_on)"]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        rows: list[tuple[Any, ...]] = []
        for record in page:
            if record.type_name != RECORDED:
                continue  # the page holds other projections' events too
            e = record.state
            rows.append((uuid_text(record.originator_id), e["person_id"], e["certified_on"],
                         e["method"], e["source"], ledger_day(record.recorded_at),
                         record.position))
        if rows:
            cur.copy_rows(CERTIFICATIONS, COLUMNS, rows)
