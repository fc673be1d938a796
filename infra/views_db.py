"""The database that holds the read models: on PostgreSQL the region's schema on the same
server as the events; on SQLite a file of its own (views.db) beside the events file, so that
projection writes never wait for the event writer's lock."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from infra.settings import Settings

SQLITE_BUSY_TIMEOUT_SECONDS = 30


class _SqliteCursor:
    dialect = "sqlite"

    def __init__(self, cur: sqlite3.Cursor) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cur.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cur.executemany(sql, rows)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        marks = ",".join("?" * len(columns))
        self._cur.executemany(f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})", rows)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cur.fetchall()

    def fetchone(self) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._cur.fetchone()
        return row


class _PgCursor:
    dialect = "postgres"

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cur.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cur.executemany(sql.replace("?", "%s"), rows)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        with self._cur.copy(f"COPY {table} ({','.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)  # formatted by psycopg's C extension

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self._cur.fetchall()
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._cur.fetchone()
        return row


# Every read-model connection runs without JIT: the planner's estimates for our IN lists and
# joins are several times the rows, so queries crossed the JIT threshold and spent 40-100 ms
# compiling to save a few (a page of the yearly mailing's inputs: 17 ms to run); the annual
# report of the 300,000-person region took 5.7-6.8 s with JIT, 3.6-5.3 s without.
SESSION_OPTIONS = "-c jit=off"
# For a connection that reads many persons at once in a process of its own (the yearly
# mailing's workers): no parallel workers either. A page of 500 persons' statement inputs was
# planned as a Parallel Append with two parallel workers: the database's backends, not the
# workers, set the batch's pace (measured, 300,000 persons, ~300 statements/s, 532/s with these
# options). The batch's own processes already use every core.
BATCH_SESSION_OPTIONS = "-c max_parallel_workers_per_gather=0"


class ViewsDb:
    def __init__(self, settings: Settings, session_options: str = "") -> None:
        """`session_options`: PostgreSQL settings of every connection besides SESSION_OPTIONS
        (e.g. BATCH_SESSION_OPTIONS)."""
        self.settings = settings
        self.dialect = "postgres" if settings.pg_dsn else "sqlite"
        self._lock = threading.RLock()  # SQLite: one connection, serialised use
        self._pool: Any = None
        self._sqlite: sqlite3.Connection | None = None
        if settings.pg_dsn:
            from psycopg_pool import ConnectionPool

            self._pool = ConnectionPool(
                settings.pg_dsn,
                min_size=1,
                max_size=8,
                kwargs={"options": f"-c search_path={settings.pg_schema} {SESSION_OPTIONS}"
                                   f" {session_options}".strip()},
                open=True,
            )
        else:
            settings.region_dir.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                settings.sqlite_views_path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS,
                isolation_level=None, check_same_thread=False,
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            # Checkpoint the WAL less often: rebuilds write in large pages.
            conn.execute("PRAGMA wal_autocheckpoint=20000")
            self._sqlite = conn

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._sqlite is not None:
            self._sqlite.close()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A read-write transaction; commits on success, rolls back on error."""
        if self._pool is not None:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield _PgCursor(cur)
            return
        assert self._sqlite is not None
        with self._lock:
            cur = self._sqlite.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteCursor(cur)
            except BaseException:
                self._sqlite.execute("ROLLBACK")
                raise
            self._sqlite.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._pool is not None:
            with self._pool.connection() as conn, conn.cursor() as cur:
                cur.execute(sql.replace("?", "%s"), params)
                return list(cur.fetchall())
        assert self._sqlite is not None
        with self._lock:
            return list(self._sqlite.execute(sql, params).fetchall())

    @contextmanager
    def snapshot(self) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
        """A `query(sql, params)` whose queries all see the read models as of one moment: a
        read-only repeatable-read transaction on PostgreSQL; on SQLite a read transaction on a
        connection of its own (WAL keeps its snapshot while the projections write, and nothing
        waits for it). A report made of several queries then adds up, and the tracking
        positions read in it say which events it includes."""
        if self._pool is not None:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")

                def pg_query(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
                    cur.execute(sql.replace("?", "%s"), params)
                    return list(cur.fetchall())

                yield pg_query
            return
        conn = sqlite3.connect(self.settings.sqlite_views_path,
                               timeout=SQLITE_BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            conn.execute("BEGIN")

            def sqlite_query(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
                return list(conn.execute(sql, params).fetchall())

            yield sqlite_query
        finally:
            conn.close()  # ends the read transaction

    @contextmanager
    def stream(self, sql: str, params: Sequence[Any] = (), batch_rows: int = 5000
               ) -> Iterator[Iterator[tuple[Any, ...]]]:
        """Rows of a large query without holding them all in memory."""
        if self._pool is not None:
            with self._pool.connection() as conn, conn.transaction(), \
                    conn.cursor(name="shebao_stream") as cur:
                cur.itersize = batch_rows
                cur.execute(sql.replace("?", "%s"), params)
                yield iter(cur)
            return
        assert self._sqlite is not None
        # A separate read connection: the stream may be consumed while writes go on.
        conn = sqlite3.connect(self.settings.sqlite_views_path, timeout=30)
        try:
            yield iter(conn.execute(sql, params))
        finally:
            conn.close()
