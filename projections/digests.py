"""Published digests of the hash chain, as signed (one JSON entry each), for export and for
`verify` to check the events against."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from projections.base import EventRecord, Projection, ViewCursor

TABLE = "digests"
PUBLISHED = "Digest.Published"
FIELDS = ("region_code", "position", "head_hash", "published_at", "public_key", "signature")


class Digests(Projection):
    name = "digests"
    version = 1
    tables = (TABLE,)
    event_types = (PUBLISHED,)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [f"CREATE TABLE IF NOT EXISTS {TABLE} (position {big} NOT NULL,"
                " published_at TEXT NOT NULL, entry TEXT NOT NULL,"
                f" event_position {big} NOT NULL)"]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        rows = [(r.state["position"], r.state["published_at"],
                 orjson.dumps({k: r.state[k] for k in FIELDS},
                              option=orjson.OPT_SORT_KEYS).decode(), r.position)
                for r in page if r.type_name == PUBLISHED]
        if rows:
            cur.copy_rows(TABLE, ("position", "published_at", "entry", "event_position"), rows)
