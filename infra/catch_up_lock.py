"""One catch-up of a region's read models at a time, across processes.

A catch-up reads the tracking positions, applies the events after them and moves the positions
on. Two processes doing that at once (the API's follower and `shebao projections catch-up`, or
two `shebao serve` on one PostgreSQL schema) would both apply the same events: sums counted
twice. The thread lock in the runner only covers one process; this lock covers the region:

- PostgreSQL: a session-level advisory lock, keyed by the region's schema, on a connection of
  its own (released by the server if the process dies);
- SQLite: an exclusive `flock` on `<region dir>/catch-up.lock` (released by the kernel if the
  process dies).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from infra.settings import Settings

LOCK_POLL_SECONDS = 0.02


class CatchUpLock:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Reentrant: a rebuild holds it around its catch-up. Only the outermost level takes and
        # releases the process-wide lock (a nested flock would release it early).
        self._guard = threading.RLock()
        self._depth = 0
        self._pg: Any = None
        self._fd: int | None = None
        self._key = int.from_bytes(hashlib.sha256(
            f"shebao catch-up {settings.pg_schema}".encode()).digest()[:8], "big", signed=True)

    @contextlib.contextmanager
    def held(self, wait: bool = True) -> Iterator[bool]:
        """Hold the lock for the block; with `wait=False` yields False at once when another
        process holds it (the block then must not catch up)."""
        with self._guard:
            got = self._depth > 0 or self._acquire(wait)
            if got:
                self._depth += 1
            try:
                yield got
            finally:
                if got:
                    self._depth -= 1
                    if self._depth == 0:
                        self._release()

    def close(self) -> None:
        with self._guard:
            if self._pg is not None:
                self._pg.close()
                self._pg = None
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _acquire(self, wait: bool) -> bool:
        if self.settings.pg_dsn:
            conn = self._connection()
            if wait:
                conn.execute("SELECT pg_advisory_lock(%s)", (self._key,))
                return True
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
            return bool(row and row[0])
        fd = self._file()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if not wait:
                    return False
                # Polled, not blocking: a blocked flock cannot be interrupted by Ctrl-C.
                time.sleep(LOCK_POLL_SECONDS)

    def _release(self) -> None:
        if self.settings.pg_dsn:
            self._connection().execute("SELECT pg_advisory_unlock(%s)", (self._key,))
        else:
            fcntl.flock(self._file(), fcntl.LOCK_UN)

    def _connection(self) -> Any:
        if self._pg is None or self._pg.closed:
            import psycopg

            self._pg = psycopg.connect(self.settings.pg_dsn, autocommit=True)
        return self._pg

    def _file(self) -> int:
        if self._fd is None:
            self.settings.region_dir.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.settings.region_dir / "catch-up.lock",
                               os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd
