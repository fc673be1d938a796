"""What a projection is, and the cursor it writes through.

Projections write portable SQL with `?` placeholders; the infra adapter turns them into the
backend's style. Append-only rows go through `copy_rows` (COPY on PostgreSQL), which is what lets
a rebuild run at tens of thousands of events per second."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol


class ViewCursor(Protocol):
    dialect: str  # "sqlite" or "postgres"

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def copy_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


class EventRecord(NamedTuple):
    """One stored event as projections see it: its place in the log, its type, and its state
    as plain JSON values (no domain objects are built: that is what makes rebuilds fast; a
    NamedTuple because a rebuild makes one per event).

    The state is the stored version of the event. When an event class gets `class_version` 2
    and an upcaster, the projections reading it must handle both shapes (or the runner must
    upcast): `ProjectionRunner` refuses to start when a projected class is not at version 1."""

    position: int  # notification id
    type_name: str  # e.g. "ContributionMonth.Posted"
    state: dict[str, Any]
    recorded_at: str  # ISO 8601 time the event was recorded
    originator_id: str  # the aggregate's id, 32 hex digits


class Projection(ABC):
    """A read model. `version` changes when its tables change: the runner then rebuilds it."""

    name: str
    version: int = 1
    tables: tuple[str, ...] = ()
    # Event class qualnames this projection reads; the runner asks the database for these only.
    event_types: tuple[str, ...] = ()

    @abstractmethod
    def create_statements(self, dialect: str) -> list[str]:
        """DDL creating this projection's tables (IF NOT EXISTS)."""

    def index_statements(self, dialect: str) -> list[str]:
        """DDL creating its indexes (IF NOT EXISTS). A rebuild creates them after loading the
        rows, which is several times cheaper than maintaining them row by row."""
        return []

    def cluster_indexes(self) -> dict[str, str]:
        """Table → the index whose order `shebao projections cluster` rewrites it in, on
        PostgreSQL. Rows arrive in event order, so one person's rows lie on as many heap pages
        as they are rows; a read model read person by person (a statement) reads a few pages
        instead once clustered."""
        return {}

    @abstractmethod
    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        """Apply a page of events in order, inside the caller's transaction."""


def add_sums(cur: ViewCursor, table: str, keys: Sequence[str], summed: Sequence[str],
             replaced: Sequence[str], rows: Mapping[Any, Sequence[Any]],
             kept: Sequence[str] = ()) -> None:
    """Upsert rows of running totals: `rows` maps a key (values of `keys`) to the values of
    `summed` (added to what the row holds), then of `kept` (written by the row's first insert
    only, e.g. the first position), then of `replaced` (overwritten, e.g. the last position).
    One statement per page of a projection that sums in memory first."""
    if not rows:
        return
    columns = (*keys, *summed, *kept, *replaced)
    updates = [f"{c} = {table}.{c} + excluded.{c}" for c in summed]
    updates += [f"{c} = excluded.{c}" for c in replaced]
    cur.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(updates)}",
        [(*key, *values) for key, values in sorted(rows.items())],
    )
