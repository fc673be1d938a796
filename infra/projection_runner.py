"""Our projection runner. The library's runner commits one transaction per event (a few hundred
events/s, EVENTSOURCING.md §4); this one reads pages of notifications and applies each page to
every projection in one transaction together with each projection's tracking position.

Catch-up reads up to the log head observed at its start. Because writers insert under an
exclusive table lock (library and bulk path alike), every event up to that head is committed,
so the position can move to the head even past events no projection cares about. Following:
LISTEN/NOTIFY on PostgreSQL, polling on SQLite."""

from __future__ import annotations

import contextlib
import gc
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.access_record import AccessRecord
from domain.alert import Alert
from domain.authorisation import TellerAuthorisation
from domain.backpay import BackPayment
from domain.benefit_payment import BenefitPayment
from domain.case import Case
from domain.certification import Certification
from domain.contribution import ContributionMonth
from domain.digest import Digest
from domain.finance_statement import FinanceStatement
from domain.import_batch import ImportBatch
from domain.interest_year import InterestYear
from domain.pension import Entitlement
from domain.pension_adjustment import PensionAdjustment
from domain.pension_payment import PensionPayment
from domain.receipts import CommandReceipt
from domain.registration import Employer, Person
from domain.scheme_link import SchemeLink
from domain.staff import StaffUser, TokenIndex
from domain.suspense import SuspenseItem
from domain.transfer import PensionTransferIn, PensionTransferOut
from infra.catch_up_lock import CatchUpLock
from infra.store import PG_EVENTS_TABLE, Store
from infra.views_db import ViewsDb
from projections.base import EventRecord, Projection
from projections.registry import all_projections

log = logging.getLogger(__name__)

PAGE_SIZE_EVENTS = 5000
PREFETCH_PAGES = 2
AGGREGATE_CLASSES: tuple[type[Aggregate], ...] = (
    Employer, Person, ContributionMonth, InterestYear, CommandReceipt, StaffUser, TokenIndex,
    ImportBatch, SuspenseItem, FinanceStatement, BackPayment, Case, TellerAuthorisation,
    Entitlement, SchemeLink, Digest, AccessRecord, Alert, PensionPayment, Certification,
    PensionAdjustment, PensionTransferIn, PensionTransferOut, BenefitPayment)
POLL_INTERVAL_SECONDS = 0.1
FOLLOW_COALESCE_SECONDS = 0.1
WAIT_TIMEOUT_SECONDS_MAX = 30.0
TRACKING_TABLE = "projection_tracking"

Progress = Callable[[int, int], None]  # (position reached, head)


class ProjectionRunner:
    def __init__(self, store: Store, views: ViewsDb,
                 projections: Sequence[Projection] | None = None) -> None:
        self.store = store
        self.views = views
        self.projections = list(projections or all_projections())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._catch_up_lock = threading.RLock()
        # Across processes: one catch-up of the region at a time (infra/catch_up_lock.py).
        self.lock = CatchUpLock(store.settings)
        # Set in an API worker process whose read models another process follows (`shebao
        # serve --workers N`): waiting for a position then polls and never catches up here.
        self.followed_elsewhere = False
        self.error: BaseException | None = None
        self.topics = event_topics(self.projections)
        # The hash chain (infra/integrity.py) grows after each catch-up; set by the Container.
        self.chain: Any = None
        # Also called after each catch-up, after the chain: e.g. the risk monitor.
        self.followers: list[Any] = []
        self._setup()

    # -- schema and tracking -----------------------------------------------------------------

    def _setup(self) -> None:
        big = "BIGINT" if self.views.dialect == "postgres" else "INTEGER"
        with self.views.transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} (name TEXT PRIMARY KEY,"
                f" version INTEGER NOT NULL, position {big} NOT NULL)"
            )
        stored = self.tracking()
        for p in self.projections:
            found = stored.get(p.name)
            if found is not None and found[0] != p.version:
                log.warning("projection %s changed (v%s → v%s): rebuilding", p.name,
                            found[0], p.version)
                self._reset(p)
            else:
                self._create(p)

    def _create(self, p: Projection, with_indexes: bool = True) -> None:
        with self.views.transaction() as cur:
            for statement in p.create_statements(self.views.dialect):
                cur.execute(statement)
            if with_indexes:
                for statement in p.index_statements(self.views.dialect):
                    cur.execute(statement)
            cur.execute(
                f"INSERT INTO {TRACKING_TABLE} (name, version, position) VALUES (?, ?, 0)"
                " ON CONFLICT (name) DO NOTHING",
                (p.name, p.version),
            )

    def _reset(self, p: Projection, with_indexes: bool = True) -> None:
        with self.views.transaction() as cur:
            for table in p.tables:
                cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(f"DELETE FROM {TRACKING_TABLE} WHERE name = ?", (p.name,))
        self._create(p, with_indexes)

    def tracking(self) -> dict[str, tuple[int, int]]:
        rows = self.views.query(f"SELECT name, version, position FROM {TRACKING_TABLE}")
        return {str(name): (int(version), int(position)) for name, version, position in rows}

    def positions(self) -> dict[str, int]:
        known = self.tracking()
        return {p.name: known.get(p.name, (0, 0))[1] for p in self.projections}

    def position(self) -> int:
        """The position every projection has reached. One small query: every read through the
        API asks it."""
        if not self.projections:
            return 0
        names = [p.name for p in self.projections]
        rows = self.views.query(
            f"SELECT count(*), min(position) FROM {TRACKING_TABLE} WHERE name IN "
            f"({', '.join('?' * len(names))})", names)
        tracked, reached = rows[0]
        return int(reached) if tracked == len(names) else 0

    # -- catch-up -----------------------------------------------------------------------------

    def selected(self, names: Sequence[str]) -> list[Projection]:
        """The projections of these names (all when none), or ValueError naming the unknown."""
        unknown = set(names) - {p.name for p in self.projections}
        if unknown:
            raise ValueError(
                f"unknown projection(s): {', '.join(sorted(unknown))}; known: "
                + ", ".join(p.name for p in self.projections)
            )
        return [p for p in self.projections if not names or p.name in names]

    def rebuild(self, names: Sequence[str] = (), progress: Progress | None = None) -> int:
        selected = self.selected(names)
        with self._catch_up_lock, self.lock.held():
            for p in selected:
                self._reset(p, with_indexes=False)
            # Indexes come after the rows (a crash in between: the next start creates them).
            head = self.catch_up(progress=progress)
            for p in selected:
                self._create(p)
        return head

    def cluster(self, names: Sequence[str] = (),
                done: Callable[[str, float], None] | None = None) -> list[str]:
        """Rewrite the tables of these projections (default: all) in the order of their
        cluster index (PostgreSQL CLUSTER, then ANALYZE), holding the catch-up lock: the read
        models stop following meanwhile and reads of a table wait for its rewrite (minutes
        on a large region: run it in a quiet hour). New rows are appended in event order
        again, so run it again after a year's load. `done(table, seconds)` after each table.
        Returns the tables rewritten; none on SQLite, whose file is read through the
        operating system's cache page by page and has nothing alike."""
        selected = self.selected(names)
        if self.views.dialect != "postgres":
            return []
        rewritten = []
        with self._catch_up_lock, self.lock.held():
            for p in selected:
                for table, index in p.cluster_indexes().items():
                    started = time.perf_counter()
                    with self.views.transaction() as cur:
                        cur.execute(f"CLUSTER {table} USING {index}")
                        cur.execute(f"ANALYZE {table}")
                    rewritten.append(table)
                    if done:
                        done(table, time.perf_counter() - started)
        return rewritten

    def catch_up(self, progress: Progress | None = None,
                 page_size: int = PAGE_SIZE_EVENTS) -> int:
        with self._catch_up_lock, self.lock.held():
            head = self._catch_up_round(progress, page_size)
            # Followers may write events of their own (the risk monitor's alerts): project
            # those too before returning, once (what others write meanwhile waits its turn).
            if self.followers and self.store.max_position() > head:
                head = self._catch_up_round(progress, page_size)
            return head

    def _catch_up_round(self, progress: Progress | None, page_size: int) -> int:
        with self._catch_up_lock:
            head = self.store.max_position()
            positions = self.positions()
            start = min(positions.values(), default=head)
            decode = self.store.decode_state
            type_names: dict[str, str] = {}
            # Applying stays in this thread: an applier thread was measured slower on both
            # backends (GIL hand-over outweighs the overlap); only reading is done ahead.
            for rows in self._pages(start, head, page_size):
                # A page allocates many small containers that all survive until it is applied:
                # the cyclic GC would scan them again and again (measured: 4× slower decoding).
                # Nothing here makes cycles, so pause it for the page.
                gc_was_enabled = gc.isenabled()
                gc.disable()
                try:
                    page = decode_page(decode, rows, type_names)
                    last = rows[-1][0]
                    self._apply(page, positions, last)
                finally:
                    if gc_was_enabled:
                        gc.enable()
                if progress:
                    progress(last, head)
            if head > min(positions.values(), default=head):
                self._apply([], positions, head)  # advance over the tail nobody projects
            if self.chain is not None:
                self.chain.catch_up()
            for follower in self.followers:
                follower.catch_up()
            if progress:
                progress(head, head)
            return head

    def _pages(self, after: int, head: int, page_size: int
               ) -> Iterator[list[tuple[int, str, bytes, Any]]]:
        """Pages of raw events up to `head`, read one page ahead by a reader thread: the next
        page's query runs while this one is applied (the driver releases the GIL meanwhile)."""
        if head - after <= page_size:
            rows = self.store.raw_notifications(after, page_size, head, self.topics)
            if rows:
                yield rows
            return
        pages: queue.Queue[list[tuple[int, str, bytes, Any]] | BaseException | None] = queue.Queue(
            maxsize=PREFETCH_PAGES)
        stop = threading.Event()

        def read() -> None:
            position = after
            try:
                while position < head and not stop.is_set():
                    rows = self.store.raw_notifications(position, page_size, head, self.topics)
                    if not rows:
                        break
                    pages.put(rows)
                    position = rows[-1][0]
                pages.put(None)
            except BaseException as e:  # handed to the consumer, which re-raises it
                pages.put(e)

        reader = threading.Thread(target=read, name="projection-reader", daemon=True)
        reader.start()
        try:
            while True:
                item = pages.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while reader.is_alive():  # unblock a reader waiting on a full queue
                with contextlib.suppress(queue.Empty):
                    pages.get_nowait()
                reader.join(timeout=0.05)

    def _apply(self, page: list[EventRecord], positions: dict[str, int], last: int) -> None:
        with self.views.transaction() as cur:
            # Projections that were at the same position advance in one statement, not one
            # each: the follower runs this after every few events (e.g. each access record).
            advanced: dict[int, list[str]] = {}
            for p in self.projections:
                done = positions[p.name]
                if done >= last:
                    continue
                todo = page if not page or page[0].position > done else [
                    r for r in page if r.position > done]
                if todo:
                    p.apply(cur, todo)
                advanced.setdefault(done, []).append(p.name)
                positions[p.name] = last
            for done, names in advanced.items():
                cur.execute(
                    f"UPDATE {TRACKING_TABLE} SET position = ? WHERE position = ? AND name IN "
                    f"({', '.join('?' * len(names))})", (last, done, *names),
                )

    # -- following and waiting ----------------------------------------------------------------

    def start(self) -> None:
        """Follow new events in a background thread until `stop()`."""
        self._thread = threading.Thread(target=self._follow, name="projections", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.lock.close()

    def _follow(self) -> None:
        try:
            if self.store.is_postgres:
                self._follow_pg()
            else:
                while not self._stop.is_set():
                    self.catch_up()
                    self._stop.wait(POLL_INTERVAL_SECONDS)
        except BaseException as e:  # surfaced by wait_for and the health endpoint
            self.error = e
            log.exception("projection runner stopped")

    def _follow_pg(self) -> None:
        import psycopg

        assert self.store.settings.pg_dsn
        with psycopg.connect(self.store.settings.pg_dsn, autocommit=True) as conn:
            conn.execute(f'LISTEN "{PG_EVENTS_TABLE}"')
            while not self._stop.is_set():
                self.catch_up()
                # Wake on NOTIFY, or after half a second anyway (and to notice stop()).
                for _ in conn.notifies(timeout=0.5, stop_after=1):
                    pass
                # Then let the commits of the next moment gather: a catch-up has a fixed cost
                # (tracking, chain, risk monitor) that every access record would otherwise pay
                # alone. Readers waiting for a position poll every 20 ms anyway.
                self._stop.wait(FOLLOW_COALESCE_SECONDS)

    def wait_for(self, position: int, timeout_seconds: float) -> bool:
        """Wait (bounded) until every projection has applied `position`. When no follower
        thread runs here nor elsewhere, catch up in this thread instead (unless another process
        is catching up just now: then its work is awaited)."""
        deadline = time.monotonic() + min(timeout_seconds, WAIT_TIMEOUT_SECONDS_MAX)
        while True:
            if self.position() >= position:
                return True
            if self.error is not None:
                raise RuntimeError(f"projections stopped: {self.error}") from self.error
            if time.monotonic() >= deadline:
                return False
            if self._thread is None and not self.followed_elsewhere:
                with self._catch_up_lock, self.lock.held(wait=False) as got:
                    if got:
                        self.catch_up()
                        continue
            time.sleep(0.02)


def decode_page(decode: Callable[[bytes], dict[str, Any]],
                rows: Sequence[tuple[int, str, bytes, Any]],
                type_names: dict[str, str]) -> list[EventRecord]:
    """Raw notifications (position, topic, state, originator) as the projections read them.
    `type_names` remembers each topic's event type name between pages."""
    page = []
    for position, topic, data, originator in rows:
        type_name = type_names.get(topic)
        if type_name is None:
            type_name = type_names[topic] = topic.split(":", 1)[1]
        state = decode(data)
        page.append(EventRecord(position, type_name, state, state["timestamp"]["_data_"],
                                originator if type(originator) is str else originator.hex))
    return page


def event_classes() -> dict[str, type]:
    """Every domain event class by qualname, e.g. "ContributionMonth.Posted"."""
    found: dict[str, type] = {}
    for aggregate in AGGREGATE_CLASSES:
        for value in vars(aggregate).values():
            if isinstance(value, type) and issubclass(value, Aggregate.Event):
                found[value.__qualname__] = value
    return found


def event_topics(projections: Sequence[Projection]) -> list[str]:
    """Topics the projections read. Refuses event classes that were upcast: projections read
    stored states as they are (see projections/base.py)."""
    classes = event_classes()
    topics: set[str] = set()
    for p in projections:
        for type_name in p.event_types:
            cls = classes.get(type_name)
            if cls is None:
                raise RuntimeError(f"projection {p.name} reads unknown event type {type_name}")
            if getattr(cls, "class_version", 1) != 1:
                raise RuntimeError(
                    f"{type_name} has class_version {cls.class_version}: teach projection "
                    f"{p.name} the new shape before starting"
                )
            topics.add(get_topic(cls))
    return sorted(topics)

