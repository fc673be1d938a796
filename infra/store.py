"""The region's event store: the eventsourcing `Ledger` application on SQLite or PostgreSQL,
plus a bulk append path that writes many new events in one transaction and one statement.

The bulk path writes into the library's own events table, in the library's format, under the
same `LOCK TABLE … IN EXCLUSIVE MODE` and `NOTIFY` as the library's recorder (PostgreSQL), so
that the library can read the events back, notification ids follow commit order, and projections
that follow the log never skip an event (EVENTSOURCING.md §2.3, §4.4)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Notification, StoredEvent, Transcoder
from eventsourcing.utils import get_topic

from infra.settings import Settings
from infra.transcoder import OrjsonTranscoder

LEDGER_NAME = "Ledger"
PG_EVENTS_TABLE = "ledger_events"
SQLITE_EVENTS_TABLE = "stored_events"
SQLITE_LOCK_TIMEOUT_SECONDS = 30
# The events table's planner statistics are refreshed when this share of its rows (at least the
# minimum) changed since they were last gathered (refresh_statistics).
STATISTICS_STALE_SHARE = 0.2
STATISTICS_STALE_ROWS_MIN = 10_000
VACUUM_PROGRESS_SECONDS = 0.5


class LoggedEvent(NamedTuple):
    """A stored event read back for a trace or a history: its place in the log, its aggregate
    and version, and its state as plain JSON values."""

    position: int
    type_name: str  # e.g. "ContributionMonth.Posted"
    state: dict[str, Any]
    recorded_at: str  # ISO 8601, UTC
    originator_id: str  # 32 hex digits
    version: int


class Ledger(Application[UUID]):
    """The region's application: one events table, one notification log."""

    name = LEDGER_NAME

    def construct_transcoder(self) -> Transcoder:
        return OrjsonTranscoder()


def eventsourcing_env(settings: Settings) -> dict[str, str]:
    env: dict[str, str] = {}
    if settings.pg_dsn:
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(settings.pg_dsn)
        env.update({
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(info.get("dbname", "postgres")),
            "POSTGRES_HOST": str(info.get("host", "localhost")),
            "POSTGRES_PORT": str(info.get("port", "5432")),
            "POSTGRES_USER": str(info.get("user", "postgres")),
            "POSTGRES_PASSWORD": str(info.get("password", "")),
            "POSTGRES_SCHEMA": settings.pg_schema,
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "8",
            # Off: with DB functions the insert skips the table lock, and followers skip events.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        })
    else:
        settings.region_dir.mkdir(parents=True, exist_ok=True)
        env.update({
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.sqlite_events_path),
            "SQLITE_LOCK_TIMEOUT": str(SQLITE_LOCK_TIMEOUT_SECONDS),
        })
    if settings.cipher_key:
        env.update({"CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
                    "CIPHER_KEY": settings.cipher_key})
    return env


class Store:
    """One region's store: the Ledger application and the fast paths around it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        if settings.pg_dsn:
            _ensure_pg_schema(settings)
        self.app = Ledger(env=eventsourcing_env(settings))
        self.recorder: Any = self.app.recorder
        self.datastore: Any = self.recorder.datastore
        self.is_postgres = settings.pg_dsn is not None
        mapper = self.app.mapper
        self._compressor = mapper.compressor
        self._cipher = mapper.cipher
        self.transcoder = mapper.transcoder
        if self.is_postgres:
            self._events_table = f'"{settings.pg_schema}"."{PG_EVENTS_TABLE}"'
        else:
            self._events_table = SQLITE_EVENTS_TABLE

    def close(self) -> None:
        self.app.close()

    @property
    def encrypts_or_compresses(self) -> bool:
        return bool(self._cipher or self._compressor)

    # -- encoding --------------------------------------------------------------------------

    def encode_state(self, state: dict[str, Any]) -> bytes:
        """Event state → stored bytes, exactly as the library's mapper does it."""
        data = self.transcoder.encode(state)
        if self._compressor:
            data = self._compressor.compress(data)
        if self._cipher:
            data = self._cipher.encrypt(data)
        return data

    def decode_state(self, data: bytes) -> dict[str, Any]:
        """Stored bytes → the event state as plain JSON values (no tagged-type restore)."""
        if self._cipher:
            data = self._cipher.decrypt(data)
        if self._compressor:
            data = self._compressor.decompress(data)
        state: dict[str, Any] = orjson.loads(data)
        return state

    @staticmethod
    def now() -> datetime:
        return datetime.now(tz=UTC)

    @staticmethod
    def timestamp_state(ts: datetime) -> dict[str, str]:
        return {"_type_": "datetime_iso", "_data_": ts.isoformat()}

    @staticmethod
    def topic(cls: type) -> str:
        return get_topic(cls)

    # -- reads -----------------------------------------------------------------------------

    def max_position(self) -> int:
        return int(self.recorder.max_notification_id() or 0)

    def versions(self, originator_ids: Iterable[UUID]) -> dict[UUID, int]:
        """Current version of each aggregate that exists, in one query."""
        wanted = list(dict.fromkeys(originator_ids))
        if not wanted:
            return {}
        found: dict[UUID, int] = {}
        if self.is_postgres:
            with self.datastore.transaction(commit=False) as curs:
                curs.execute(
                    f"SELECT originator_id, max(originator_version) AS v FROM {self._events_table}"
                    " WHERE originator_id = ANY(%s) GROUP BY originator_id",
                    (wanted,),
                )
                for row in curs.fetchall():
                    found[row["originator_id"]] = int(row["v"])
            return found
        chunk = 500  # SQLite's bound-parameter limit is generous, but keep statements small
        with self.datastore.transaction(commit=False) as c:
            for i in range(0, len(wanted), chunk):
                part = wanted[i : i + chunk]
                c.execute(
                    f"SELECT originator_id, max(originator_version) FROM {self._events_table}"
                    f" WHERE originator_id IN ({','.join('?' * len(part))})"
                    " GROUP BY originator_id",
                    [u.hex for u in part],
                )
                for oid, v in c.fetchall():
                    found[UUID(oid)] = int(v)
        return found

    def existing(self, originator_ids: Iterable[UUID]) -> set[UUID]:
        """Which of these aggregates exist (have a first event), in one query."""
        wanted = list(dict.fromkeys(originator_ids))
        if not wanted:
            return set()
        if self.is_postgres:
            with self.datastore.transaction(commit=False) as curs:
                curs.execute(
                    f"SELECT originator_id FROM {self._events_table}"
                    " WHERE originator_id = ANY(%s) AND originator_version = 1",
                    (wanted,),
                )
                return {row["originator_id"] for row in curs.fetchall()}
        found: set[UUID] = set()
        chunk = 500
        with self.datastore.transaction(commit=False) as c:
            for i in range(0, len(wanted), chunk):
                by_hex = {u.hex: u for u in wanted[i : i + chunk]}
                c.execute(
                    f"SELECT originator_id FROM {self._events_table}"
                    f" WHERE originator_version = 1 AND originator_id IN"
                    f" ({','.join('?' * len(by_hex))})",
                    list(by_hex),
                )
                found.update(by_hex[row[0]] for row in c.fetchall())
        return found

    def notifications(self, after: int, limit: int, stop: int | None = None,
                      topics: Sequence[str] = ()) -> Sequence[Notification]:
        result: Sequence[Notification] = self.recorder.select_notifications(
            start=after, limit=limit, stop=stop, topics=topics, inclusive_of_start=False
        )
        return result

    def raw_notifications(self, after: int, limit: int, stop: int,
                          topics: Sequence[str]) -> list[tuple[int, str, bytes, Any]]:
        """(notification id, topic, state, originator id) rows, oldest first: what projections
        need, without building library objects per row. The originator id is a UUID on
        PostgreSQL and 32 hex digits on SQLite."""
        marks = ",".join(["%s" if self.is_postgres else "?"] * len(topics))
        if self.is_postgres:
            sql = (f"SELECT notification_id, topic, state, originator_id FROM {self._events_table}"
                   f" WHERE notification_id > %s AND notification_id <= %s"
                   f" AND topic IN ({marks}) ORDER BY notification_id LIMIT %s")
        else:
            sql = (f"SELECT rowid, topic, state, originator_id FROM {self._events_table}"
                   f" WHERE rowid > ? AND rowid <= ? AND topic IN ({marks})"
                   " ORDER BY rowid LIMIT ?")
        params = [after, stop, *topics, limit]
        if self.is_postgres:
            from psycopg.rows import tuple_row

            # Tuples in binary format: the library's dict rows and hex-encoded bytea cost more
            # than everything else in a rebuild (measured).
            with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row
                                                                      ) as curs:
                curs.execute(sql, params, binary=True)
                rows: list[tuple[int, str, bytes, Any]] = curs.fetchall()
                conn.commit()
            return rows
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(sql, params)
            return [(r[0], r[1], r[2], r[3]) for r in curs.fetchall()]

    def events_at(self, positions: Iterable[int]) -> list[LoggedEvent]:
        """The stored events at these notification ids, decoded, in notification order."""
        wanted = sorted(set(positions))
        found: list[LoggedEvent] = []
        chunk = 500
        for i in range(0, len(wanted), chunk):
            part = wanted[i : i + chunk]
            marks = ",".join(["%s" if self.is_postgres else "?"] * len(part))
            column = self.position_column
            found.extend(self._logged(self.select_rows(
                f"SELECT {column}, originator_id, originator_version, topic, state"
                f" FROM {self._events_table} WHERE {column} IN ({marks}) ORDER BY {column}",
                part)))
        return found

    def events_of(self, originator_ids: Iterable[UUID]) -> list[LoggedEvent]:
        """Every stored event of these aggregates, decoded, in notification order."""
        wanted = list(dict.fromkeys(originator_ids))
        found: list[LoggedEvent] = []
        chunk = 500
        for i in range(0, len(wanted), chunk):
            part = wanted[i : i + chunk]
            column = self.position_column
            params: list[Any]
            if self.is_postgres:
                where, params = "originator_id = ANY(%s)", [part]
            else:
                where = f"originator_id IN ({','.join('?' * len(part))})"
                params = [u.hex for u in part]
            found.extend(self._logged(self.select_rows(
                f"SELECT {column}, originator_id, originator_version, topic, state"
                f" FROM {self._events_table} WHERE {where}", params)))
        return sorted(found, key=lambda e: e.position)

    def events_between(self, first: int, last: int, topics: Sequence[str],
                       batch_rows: int = 5000) -> Iterator[LoggedEvent]:
        """Stored events with first <= notification id <= last and one of `topics`, decoded,
        in notification order; pages of `batch_rows`, so memory does not grow with the range."""
        column = self.position_column
        mark = "%s" if self.is_postgres else "?"
        sql = (f"SELECT {column}, originator_id, originator_version, topic, state"
               f" FROM {self._events_table} WHERE {column} > {mark} AND {column} <= {mark}"
               f" AND topic IN ({','.join([mark] * len(topics))})"
               f" ORDER BY {column} LIMIT {int(batch_rows)}")
        after = first - 1
        while True:
            rows = self.select_rows(sql, [after, last, *topics])
            if not rows:
                return
            yield from self._logged(rows)
            after = int(rows[-1][0])

    def select_rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Rows of a read-only query on the events database, as tuples (binary on PostgreSQL)."""
        if self.is_postgres:
            from psycopg.rows import tuple_row

            with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row
                                                                      ) as curs:
                curs.execute(sql, params, binary=True)
                rows: list[tuple[Any, ...]] = curs.fetchall()
                conn.commit()
            return rows
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(sql, params)
            return [tuple(r) for r in curs.fetchall()]

    def _logged(self, rows: Iterable[tuple[Any, ...]]) -> Iterator[LoggedEvent]:
        decode = self.decode_state
        for position, originator, version, topic, data in rows:
            state = decode(bytes(data))
            yield LoggedEvent(
                int(position), topic.split(":", 1)[1], state, state["timestamp"]["_data_"],
                originator if type(originator) is str else originator.hex, int(version))

    # -- bulk append -----------------------------------------------------------------------

    def append(self, events: Sequence[StoredEvent]) -> int:
        """Write new events in one transaction; returns the last notification id written.
        Raises IntegrityError (and writes nothing) if any (originator, version) exists."""
        if not events:
            return self.max_position()
        if self.is_postgres:
            return self._append_pg(events)
        return self._append_sqlite(events)

    def _append_pg(self, events: Sequence[StoredEvent]) -> int:
        import psycopg

        table = self._events_table
        channel = PG_EVENTS_TABLE
        try:
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(f"SET LOCAL lock_timeout = '{self.datastore.lock_timeout}s'")
                curs.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
                curs.execute(f'NOTIFY "{channel}"')
                with curs.copy(
                    f"COPY {table} (originator_id, originator_version, topic, state)"
                    " FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(["uuid", "int8", "text", "bytea"])
                    for e in events:
                        copy.write_row((e.originator_id, e.originator_version, e.topic, e.state))
                # Under the exclusive lock nobody else inserts, so ours are the newest ids.
                curs.execute(f"SELECT max(notification_id) AS n FROM {table}")
                row = curs.fetchone()
                return int(row["n"])
        except psycopg.errors.UniqueViolation as e:
            raise IntegrityError(e) from e

    def _append_sqlite(self, events: Sequence[StoredEvent]) -> int:
        rows = [(e.originator_id.hex if isinstance(e.originator_id, UUID) else e.originator_id,
                 e.originator_version, e.topic, e.state) for e in events]
        try:
            with self.datastore.transaction(commit=True) as c:
                c.executemany(f"INSERT INTO {self._events_table} VALUES (?,?,?,?)", rows)
                c.execute(f"SELECT max(rowid) FROM {self._events_table}")
                return int(c.fetchone()[0])
        except sqlite3.IntegrityError as e:
            raise IntegrityError(e) from e

    def refresh_statistics(self) -> bool:
        """ANALYZE the events table (PostgreSQL) when it has no planner statistics yet or a fifth
        of it is newer than them; whether it did. Autovacuum cannot be relied on for this table:
        every writer's `LOCK TABLE … IN EXCLUSIVE MODE` (the library's and ours) cancels its
        ANALYZE, so under a steady stream of writes it never finishes. Without statistics the
        planner guesses tens of thousands of events per aggregate and loads each aggregate with
        a parallel bitmap scan under JIT (~100 ms instead of 0.1 ms): a bulk load followed by
        commands slowed from thousands to ~10 aggregates a second (measured, 300,000-person
        demo). Called after bulk writes; ANALYZE reads a fixed sample (a fraction of a second
        for millions of events) and holds off writers only meanwhile."""
        if not self.is_postgres:
            return False  # SQLite's planner uses the primary key without statistics
        [(tuples, changed)] = self.select_rows(
            "SELECT c.reltuples, s.n_mod_since_analyze FROM pg_class c"
            " JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = %s::regclass",
            (self._events_table,))
        stale = max(STATISTICS_STALE_ROWS_MIN, STATISTICS_STALE_SHARE * max(float(tuples), 0))
        if float(tuples) >= 0 and int(changed or 0) < stale:
            return False
        with self.datastore.get_connection() as conn:
            conn.execute(f"ANALYZE {self._events_table}")
            conn.commit()
        return True

    def vacuum_events(self, progress: Callable[[int, int], None] | None = None) -> bool:
        """PostgreSQL: VACUUM (FREEZE, ANALYZE) the events table — the maintenance autovacuum
        never finishes on it (refresh_statistics); `progress(blocks scanned, blocks)` is called
        about twice a second from PostgreSQL's progress view. Writers wait until it is done
        (its lock conflicts with theirs): a quiet hour's job. Whether it ran (not on SQLite,
        where deleted space is reused and nothing needs freezing)."""
        if not self.is_postgres:
            return False
        import psycopg

        assert self.settings.pg_dsn is not None
        done = threading.Event()
        with psycopg.connect(self.settings.pg_dsn, autocommit=True) as conn:
            pid = conn.info.backend_pid

            def watch() -> None:
                with psycopg.connect(self.settings.pg_dsn or "", autocommit=True) as spy:
                    while not done.wait(VACUUM_PROGRESS_SECONDS):
                        row = spy.execute(
                            "SELECT heap_blks_scanned, heap_blks_total"
                            " FROM pg_stat_progress_vacuum WHERE pid = %s", (pid,)).fetchone()
                        if row and progress:
                            progress(int(row[0]), int(row[1]))

            watcher = threading.Thread(target=watch, name="vacuum-progress", daemon=True)
            watcher.start()
            try:
                conn.execute(f"VACUUM (FREEZE, ANALYZE) {self._events_table}")
            finally:
                done.set()
                watcher.join()
        return True

    # -- raw access for the integrity tools and tests ----------------------------------------

    @property
    def events_table(self) -> str:
        """The library's table of stored events (quoted, schema-qualified on PostgreSQL)."""
        return self._events_table

    @property
    def position_column(self) -> str:
        """The column holding the notification id: notification_id, or SQLite's rowid."""
        return "notification_id" if self.is_postgres else "rowid"

    @contextmanager
    def chain_rows(self, after: int = 0, batch_rows: int = 20_000
                   ) -> Iterator[Iterator[tuple[int, bytes, int, str, bytes]]]:
        """Every stored event after `after` in notification order, as (notification id,
        originator id as 16 bytes, version, topic, state as stored): the hash chain's input.
        Streams: memory does not grow with the log."""
        if self.is_postgres:
            from psycopg.rows import tuple_row

            with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor(
                    name="shebao_chain", row_factory=tuple_row) as curs:
                curs.itersize = batch_rows
                curs.execute(
                    f"SELECT notification_id, originator_id, originator_version, topic, state"
                    f" FROM {self._events_table} WHERE notification_id > %s"
                    " ORDER BY notification_id", (after,), binary=True)
                yield ((n, o.bytes, v, t, s) for n, o, v, t, s in curs)
            return
        conn = sqlite3.connect(self.settings.sqlite_events_path, timeout=30)
        # Text as bytes: a value written behind the library's back may be text that is not
        # UTF-8, or a number; hash what is there rather than fail, so that verify reports it.
        conn.text_factory = bytes
        try:
            rows = conn.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state"
                f" FROM {self._events_table} WHERE rowid > ? ORDER BY rowid", (after,))
            yield ((n, _uuid_bytes(o), v, t.decode(errors="replace"),
                    s if type(s) is bytes else str(s).encode()) for n, o, v, t, s in rows)
        finally:
            conn.close()

    @contextmanager
    def raw_events_cursor(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=True) as curs:
            yield curs


def _uuid_bytes(value: Any) -> bytes:
    try:
        return bytes.fromhex(value.decode() if type(value) is bytes else str(value))
    except ValueError:  # not the library's 32 hex digits: keep what is there
        return str(value).encode()[:16].ljust(16, b"\0")


def _ensure_pg_schema(settings: Settings) -> None:
    import psycopg

    assert settings.pg_dsn
    with psycopg.connect(settings.pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{settings.pg_schema}"')
