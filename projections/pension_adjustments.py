"""Pension adjustments (养老金调整):

- `pension_adjustments`: one row per entitlement and year (`PensionAdjustment.Adjusted`): the
  monthly increase in effect from `effective_period`, the reference month's pension it was
  computed from, and the arrears (补发) paid with it for months already paid, with the ledger
  day (China Standard Time) and the log position;
- `pension_adjustment_bases`: what an adjustment needs of each award (`Entitlement.Awarded`):
  its contribution and deemed months and the awarded monthly pension.

The payment run (infra/pension_payments.py) adds the increases in effect for a month to the
award; the adjustment run (infra/pension_adjustments.py) reads earlier years' increases for the
reference month; the annual report sums a year's."""

from __future__ import annotations

from collections.abc import Sequence

from projections.base import EventRecord, Projection, ViewCursor
from projections.fund_movements import ledger_day
from projections.pension_payments import uuid_text

ADJUSTMENTS = "pension_adjustments"
BASES = "pension_adjustment_bases"
ADJUSTED = "PensionAdjustment.Adjusted"
AWARDED = "Entitlement.Awarded"
BASE_COLUMNS = ("entitlement_id", "person_id", "contribution_months", "deemed_months",
                "monthly_fen", "position")
ADJUSTMENT_COLUMNS = ("adjustment_id", "entitlement_id", "person_id", "year", "effective_period",
                      "delta_fen", "reference_pension_fen", "arrears_months", "arrears_fen",
                      "day", "position")


class PensionAdjustments(Projection):
    name = "pension_adjustments"
    version = 1
    tables = (ADJUSTMENTS, BASES)
    event_types = (ADJUSTED, AWARDED)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {ADJUSTMENTS} (adjustment_id TEXT PRIMARY KEY,"
            " entitlement_id TEXT NOT NULL, person_id TEXT NOT NULL, year INTEGER NOT NULL,"
            f" effective_period TEXT NOT NULL, delta_fen {big} NOT NULL,"
            f" reference_pension_fen {big} NOT NULL, arrears_months INTEGER NOT NULL,"
            f" arrears_fen {big} NOT NULL, day TEXT NOT NULL, position {big} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {BASES} (entitlement_id TEXT PRIMARY KEY,"
            " person_id TEXT NOT NULL, contribution_months INTEGER NOT NULL,"
            f" deemed_months INTEGER NOT NULL, monthly_fen {big} NOT NULL,"
            f" position {big} NOT NULL)",
        ]

    def index_statements(self, dialect: str) -> list[str]:
        return [
            f"CREATE INDEX IF NOT EXISTS {ADJUSTMENTS}_entitlement ON {ADJUSTMENTS}"
            " (entitlement_id, effective_period)",
            f"CREATE INDEX IF NOT EXISTS {ADJUSTMENTS}_year ON {ADJUSTMENTS} (year)",
            f"CREATE INDEX IF NOT EXISTS {ADJUSTMENTS}_person ON {ADJUSTMENTS} (person_id)",
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        rows = []
        bases = []
        for record in page:
            e = record.state
            if record.type_name == AWARDED:
                inputs = e["inputs"]
                bases.append((uuid_text(record.originator_id), e["person_id"],
                              inputs["contribution_months"], inputs["deemed_months"],
                              e["monthly_fen"], record.position))
                continue
            if record.type_name != ADJUSTED:
                continue  # the page holds other projections' events too
            rows.append((uuid_text(record.originator_id), e["entitlement_id"], e["person_id"],
                         e["year"], e["effective_period"], e["delta_fen"],
                         e["inputs"]["reference_pension_fen"], len(e["arrears_periods"]),
                         e["arrears_fen"], ledger_day(record.recorded_at), record.position))
        if rows:
            cur.copy_rows(ADJUSTMENTS, ADJUSTMENT_COLUMNS, rows)
        if bases:
            cur.copy_rows(BASES, BASE_COLUMNS, bases)
