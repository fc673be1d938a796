"""Interest crediting per year (记账利率 runs): how many accounts were credited for a year and
with how much, recomputations included. A back-payment reads the last year credited here to
know which years' interest its credits change."""

from __future__ import annotations

from collections.abc import Sequence

from projections.base import EventRecord, Projection, ViewCursor

TABLE = "interest_years"
CREDITED = "InterestYear.Credited"
RECOMPUTED = "InterestYear.Recomputed"


class InterestYears(Projection):
    name = "interest_years"
    version = 1
    tables = (TABLE,)
    event_types = (CREDITED, RECOMPUTED)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (year INTEGER PRIMARY KEY,"
            f" accounts {big} NOT NULL, recomputations {big} NOT NULL,"
            f" interest_fen {big} NOT NULL, last_position {big} NOT NULL)"
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        sums: dict[int, list[int]] = {}  # year → [accounts, recomputations, fen, position]
        for record in page:
            if record.type_name not in (CREDITED, RECOMPUTED):
                continue
            e = record.state
            row = sums.setdefault(int(e["year"]), [0, 0, 0, 0])
            if record.type_name == CREDITED:
                row[0] += 1
                row[2] += int(e["prior_interest_fen"]) + int(e["current_interest_fen"])
            else:
                row[1] += 1
                row[2] += int(e["interest_delta_fen"])
            row[3] = record.position
        if sums:
            cur.executemany(
                f"INSERT INTO {TABLE} (year, accounts, recomputations, interest_fen,"
                " last_position) VALUES (?, ?, ?, ?, ?) ON CONFLICT (year) DO UPDATE SET"
                f" accounts = {TABLE}.accounts + excluded.accounts,"
                f" recomputations = {TABLE}.recomputations + excluded.recomputations,"
                f" interest_fen = {TABLE}.interest_fen + excluded.interest_fen,"
                " last_position = excluded.last_position",
                [(year, *values) for year, values in sorted(sums.items())],
            )
