"""Sessions of the web console (经办管理台): a staff member signs in once with their bearer token
and the browser then holds only a random session id in an HttpOnly cookie.

The token itself is never put in a cookie (a cookie that a script, an extension or a copied
profile can read would be the token, valid until an administrator deactivates the user) nor
kept here. Each session carries its CSRF token, the reason for reading persons' records
(查询事由) chosen for it, and one-shot messages (flashes) for the next page.

Sessions live in the read-model database (table `console_sessions`), not in a process's
memory: the server runs several worker processes, and the next request of a browser may reach
any of them. The table holds the SHA-256 of each session id, never the id: whoever reads the
table (a backup, a read-only database user) cannot take over a session. Times are wall-clock
epoch seconds (`time.time`), the same in every process (a monotonic clock is per process).

Every change to a session is written at once, through the session's methods, so that the next
request on any worker sees it. `last_seen` is written at most once a minute
(`LAST_SEEN_WRITE_INTERVAL_SECONDS`): idle time is counted to the minute, and an ordinary page
view costs one read of the table, not a write."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from infra.views_db import ViewsDb

SESSION_ID_BYTES = 32  # 256 bits: as strong as the bearer token it stands for
SESSION_ID_LENGTH_MAX = 100  # a cookie longer than any id we issue is not looked up
CSRF_TOKEN_BYTES = 32
IDLE_SECONDS_MAX = 30 * 60  # an unattended counter screen signs out after half an hour
LIFETIME_SECONDS_MAX = 10 * 60 * 60  # a working day, then sign in again
LAST_SEEN_WRITE_INTERVAL_SECONDS = 60  # idle time to the minute; not a write per page
SESSIONS_MAX = 10_000  # staff of a region, several browsers each; the oldest go first
FLASHES_MAX = 5

TABLE = "console_sessions"
_COLUMNS = ("username", "csrf_token", "started_at", "last_seen_at", "reason_code",
            "reason_note", "flashes")
# DOUBLE PRECISION: a float8 on PostgreSQL; REAL affinity on SQLite.
_DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (session_sha256 TEXT PRIMARY KEY,"
    " username TEXT NOT NULL, csrf_token TEXT NOT NULL,"
    " started_at DOUBLE PRECISION NOT NULL, last_seen_at DOUBLE PRECISION NOT NULL,"
    " reason_code TEXT, reason_note TEXT NOT NULL, flashes TEXT NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_started ON {TABLE} (started_at)",
)


@dataclass(frozen=True)
class Flash:
    kind: str  # "ok" or "error"
    text: str


def session_sha256(session_id: str) -> str:
    """The key of a session in the table: its id is a secret, kept only by the browser."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def _flashes_json(flashes: list[Flash]) -> str:
    return orjson.dumps([{"kind": f.kind, "text": f.text} for f in flashes]).decode()


def _flashes_of(text: str) -> list[Flash]:
    return [Flash(f["kind"], f["text"]) for f in orjson.loads(text)]


class ConsoleSession:
    """A session as read at the start of a request. Its state changes only through its
    methods, each of which writes the change through its store before it returns."""

    def __init__(self, store: SessionStore, session_id: str, username: str, csrf_token: str,
                 started: float, last_seen: float, reason_code: str | None = None,
                 reason_note: str = "", flashes: tuple[Flash, ...] = ()) -> None:
        self._store = store
        self.session_id = session_id
        self.username = username
        self.csrf_token = csrf_token
        self.started = started  # wall-clock epoch seconds
        self.last_seen = last_seen
        self._reason_code = reason_code
        self._reason_note = reason_note
        self._flashes = list(flashes)

    @property
    def reason_code(self) -> str | None:
        """查询事由 for reads of persons' records, chosen by the user; None until chosen."""
        return self._reason_code

    @property
    def reason_note(self) -> str:
        """E.g. the complaint number, where the reason needs one."""
        return self._reason_note

    @property
    def flashes(self) -> tuple[Flash, ...]:
        return tuple(self._flashes)

    def choose_reason(self, reason_code: str, reason_note: str) -> None:
        self._store.save_reason(self.session_id, reason_code, reason_note)
        self._reason_code, self._reason_note = reason_code, reason_note

    def flash(self, kind: str, text: str) -> None:
        """A message for the next page this session shows, on whichever worker."""
        self._flashes = self._store.add_flash(self.session_id, Flash(kind, text))

    def take_flashes(self) -> list[Flash]:
        """The messages to show now, removed from the session. A session read without any
        costs no write (a message added meanwhile by another request shows on the next page)."""
        if not self._flashes:
            return []
        self._flashes = []
        return self._store.take_flashes(self.session_id)


class SessionStore:
    """The sessions of one region's console, shared by every worker process through the
    read-model database. Safe to call from the thread pool: each call is its own query or
    transaction."""

    def __init__(self, views: ViewsDb, clock: Callable[[], float] = time.time) -> None:
        self._views = views
        self._clock = clock
        self._lock_key = f"{views.settings.pg_schema}.{TABLE}"
        with views.transaction() as cur:
            self._serialise(cur)  # several worker processes start at once
            for statement in _DDL:
                cur.execute(statement)

    def start(self, username: str) -> ConsoleSession:
        """A new session: expired ones are dropped first, then the oldest while there are
        `SESSIONS_MAX` or more."""
        now = self._clock()
        session = ConsoleSession(self, secrets.token_urlsafe(SESSION_ID_BYTES), username,
                                 secrets.token_urlsafe(CSRF_TOKEN_BYTES), now, now)
        with self._views.transaction() as cur:
            self._serialise(cur)  # the count and the insert, one sign-in at a time
            cur.execute(f"DELETE FROM {TABLE} WHERE last_seen_at < ? OR started_at < ?",
                        (now - IDLE_SECONDS_MAX, now - LIFETIME_SECONDS_MAX))
            cur.execute(f"SELECT COUNT(*) FROM {TABLE}")
            row = cur.fetchone()
            excess = (int(row[0]) if row else 0) - SESSIONS_MAX + 1
            if excess > 0:
                cur.execute(f"DELETE FROM {TABLE} WHERE session_sha256 IN (SELECT session_sha256"
                            f" FROM {TABLE} ORDER BY started_at, session_sha256 LIMIT ?)",
                            (excess,))
            cur.execute(f"INSERT INTO {TABLE} (session_sha256, {', '.join(_COLUMNS)})"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (session_sha256(session.session_id), username, session.csrf_token, now,
                         now, None, "", _flashes_json([])))
        return session

    def get(self, session_id: str | None) -> ConsoleSession | None:
        """The live session of this id (its idle time starts again), or None: unknown, signed
        out, or expired (then its row is dropped)."""
        if not session_id or len(session_id) > SESSION_ID_LENGTH_MAX:
            return None
        key = session_sha256(session_id)
        rows = self._views.query(f"SELECT {', '.join(_COLUMNS)} FROM {TABLE}"
                                 " WHERE session_sha256 = ?", (key,))
        if not rows:
            return None
        username, csrf_token, started, last_seen, reason_code, reason_note, flashes = rows[0]
        now = self._clock()
        if now - last_seen > IDLE_SECONDS_MAX or now - started > LIFETIME_SECONDS_MAX:
            self.end(session_id)
            return None
        if now - last_seen >= LAST_SEEN_WRITE_INTERVAL_SECONDS:
            with self._views.transaction() as cur:
                cur.execute(f"UPDATE {TABLE} SET last_seen_at = ?"
                            " WHERE session_sha256 = ? AND last_seen_at < ?", (now, key, now))
            last_seen = now
        return ConsoleSession(self, session_id, username, csrf_token, float(started),
                              float(last_seen), reason_code, reason_note,
                              tuple(_flashes_of(flashes)))

    def end(self, session_id: str | None) -> None:
        """Sign out: the session is gone for every worker."""
        if not session_id or len(session_id) > SESSION_ID_LENGTH_MAX:
            return
        with self._views.transaction() as cur:
            cur.execute(f"DELETE FROM {TABLE} WHERE session_sha256 = ?",
                        (session_sha256(session_id),))

    def __len__(self) -> int:
        """Sessions on record (an expired one counts until it is next looked up or a sign-in
        drops it)."""
        return int(self._views.query(f"SELECT COUNT(*) FROM {TABLE}")[0][0])

    # -- changes of a session, through its methods ---------------------------------------------

    def save_reason(self, session_id: str, reason_code: str, reason_note: str) -> None:
        with self._views.transaction() as cur:
            cur.execute(f"UPDATE {TABLE} SET reason_code = ?, reason_note = ?"
                        " WHERE session_sha256 = ?",
                        (reason_code, reason_note, session_sha256(session_id)))

    def add_flash(self, session_id: str, flash: Flash) -> list[Flash]:
        """The session's messages with `flash` added (the last `FLASHES_MAX`)."""
        key = session_sha256(session_id)
        with self._views.transaction() as cur:
            flashes = self._locked_flashes(cur, key)
            if flashes is None:  # signed out meanwhile: there is no next page to show it on
                return []
            flashes = [*flashes, flash][-FLASHES_MAX:]
            cur.execute(f"UPDATE {TABLE} SET flashes = ? WHERE session_sha256 = ?",
                        (_flashes_json(flashes), key))
        return flashes

    def take_flashes(self, session_id: str) -> list[Flash]:
        """The session's messages, removed in the same transaction: each is shown once, even
        when two requests of the session run at once."""
        key = session_sha256(session_id)
        with self._views.transaction() as cur:
            flashes = self._locked_flashes(cur, key)
            if not flashes:
                return []
            cur.execute(f"UPDATE {TABLE} SET flashes = ? WHERE session_sha256 = ?",
                        (_flashes_json([]), key))
        return flashes

    # -- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _locked_flashes(cur: Any, key: str) -> list[Flash] | None:
        """The row's messages, the row locked until the transaction ends (SQLite's
        BEGIN IMMEDIATE has locked the whole database already)."""
        lock = " FOR UPDATE" if cur.dialect == "postgres" else ""
        cur.execute(f"SELECT flashes FROM {TABLE} WHERE session_sha256 = ?{lock}", (key,))
        row = cur.fetchone()
        return None if row is None else _flashes_of(row[0])

    def _serialise(self, cur: Any) -> None:
        """PostgreSQL: one such transaction at a time in this region — CREATE TABLE IF NOT
        EXISTS run by two processes at once can fail on the catalogue's unique index, and two
        sign-ins could both count one below the limit. The lock ends with the transaction.
        SQLite: BEGIN IMMEDIATE already lets one writer in at a time."""
        if cur.dialect == "postgres":
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (self._lock_key,))
