"""What a projection is, and the cursor it writes through.

Projections write portable SQL with `?` placeholders; the infra adapter turns them into the
backend's style. Append-only rows go through `copy_rows` (COPY on PostgreSQL), which is what lets
a rebuild run at tens of thousands of events per second."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class ViewCursor(Protocol):
    dialect: str  # "sqlite" or "postgres"

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def copy_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A decoded domain event with its place in the log."""

    position: int  # notification id
    event: Any  # the domain event object
    recorded_at: datetime

    @property
    def type_name(self) -> str:
        return type(self.event).__qualname__


class Projection(ABC):
    """A read model. `version` changes when its tables change: the runner then rebuilds it."""

    name: str
    version: int = 1
    tables: tuple[str, ...] = ()

    @abstractmethod
    def create_statements(self, dialect: str) -> list[str]:
        """DDL creating this projection's tables and indexes (IF NOT EXISTS)."""

    @abstractmethod
    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        """Apply a page of events in order, inside the caller's transaction."""
