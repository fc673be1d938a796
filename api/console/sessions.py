"""Sessions of the web console (经办管理台): a staff member signs in once with their bearer token
and the browser then holds only a random session id in an HttpOnly cookie.

The session lives in this process's memory, mapped from that id: the token itself is never put
in a cookie (a cookie that a script, an extension or a copied profile can read would be the
token, valid until an administrator deactivates the user) nor kept here. A restart of the
server ends every session (sign in again). Each session carries its CSRF token, the reason for
reading persons' records (查询事由) chosen for it, and one-shot messages for the next page."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SESSION_ID_BYTES = 32  # 256 bits: as strong as the bearer token it stands for
CSRF_TOKEN_BYTES = 32
IDLE_SECONDS_MAX = 30 * 60  # an unattended counter screen signs out after half an hour
LIFETIME_SECONDS_MAX = 10 * 60 * 60  # a working day, then sign in again
SESSIONS_MAX = 10_000  # staff of a region, several browsers each; the oldest go first
FLASHES_MAX = 5


@dataclass
class Flash:
    kind: str  # "ok" or "error"
    text: str


@dataclass
class ConsoleSession:
    session_id: str
    username: str
    csrf_token: str
    started: float  # monotonic seconds
    last_seen: float
    reason_code: str | None = None  # 查询事由 for reads of persons' records, chosen by the user
    reason_note: str = ""  # e.g. the complaint number, where the reason needs one
    flashes: list[Flash] = field(default_factory=list)

    def flash(self, kind: str, text: str) -> None:
        self.flashes = [*self.flashes, Flash(kind, text)][-FLASHES_MAX:]

    def take_flashes(self) -> list[Flash]:
        taken, self.flashes = self.flashes, []
        return taken


class SessionStore:
    """Thread-safe: FastAPI runs the console's plain `def` handlers in a thread pool."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sessions: dict[str, ConsoleSession] = {}  # insertion order: oldest first
        self._lock = threading.Lock()

    def start(self, username: str) -> ConsoleSession:
        now = self._clock()
        session = ConsoleSession(secrets.token_urlsafe(SESSION_ID_BYTES), username,
                                 secrets.token_urlsafe(CSRF_TOKEN_BYTES), now, now)
        with self._lock:
            self._drop_expired(now)
            while len(self._sessions) >= SESSIONS_MAX:
                del self._sessions[next(iter(self._sessions))]
            self._sessions[session.session_id] = session
        return session

    def get(self, session_id: str | None) -> ConsoleSession | None:
        """The live session of this id (its idle time starts again), or None."""
        if not session_id:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if self._expired(session, now):
                del self._sessions[session_id]
                return None
            session.last_seen = now
            return session

    def end(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def __len__(self) -> int:
        return len(self._sessions)

    def _expired(self, session: ConsoleSession, now: float) -> bool:
        return (now - session.last_seen > IDLE_SECONDS_MAX
                or now - session.started > LIFETIME_SECONDS_MAX)

    def _drop_expired(self, now: float) -> None:
        for session_id in [s.session_id for s in self._sessions.values()
                           if self._expired(s, now)]:
            del self._sessions[session_id]
