"""Read models as they stood at an earlier log position, rebuilt on the side: the events up to
position P replayed into temporary read models of their own, which are dropped afterwards.

What it is for: a read model that keeps running totals or current state (participation_years,
fund_income, account_days, backpayments, cases …) cannot say what it held at P — its rows do not
keep the positions of the events summed into them. Replaying the log up to P into fresh tables
can, whatever the read model: the same projections, the same events, hence the same rows the
live read models held when they stood at P (a rebuild gives identical rows: tested for every
projection).

Where: a SQLite file in a temporary directory, whichever backend holds the events — nothing is
created in the region's schema, and nothing the live read models hold is touched. The events
are read in pages straight from the log (only the topics the chosen projections read) and
applied as the projection runner does: one transaction per page, indexes after the rows.

Cost: a read of the log up to P (the chosen topics) plus the projections' work — a rebuild of
those read models up to P. It grows with P, not with what the caller asks of the result."""

from __future__ import annotations

import gc
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from infra.projection_runner import TRACKING_TABLE, decode_page, event_topics
from infra.settings import Settings
from infra.store import Store
from infra.views_db import ViewsDb
from projections.base import Projection

PAGE_SIZE_EVENTS = 5000

Progress = Callable[[int, int], None]  # (position reached, position wanted)


@contextmanager
def replayed(store: Store, projections: Sequence[Projection], position: int,
             progress: Progress | None = None) -> Iterator[ViewsDb]:
    """Temporary read models of `projections` holding exactly the events up to `position`,
    with a tracking table that says so; removed when the block ends."""
    assert projections and position >= 0
    with tempfile.TemporaryDirectory(prefix="shebao-replay-") as directory:
        views = ViewsDb(Settings(region_code=store.settings.region_code,
                                 data_dir=Path(directory)))
        try:
            with views.transaction() as cur:
                cur.execute(f"CREATE TABLE {TRACKING_TABLE} (name TEXT PRIMARY KEY,"
                            " version INTEGER NOT NULL, position INTEGER NOT NULL)")
                for p in projections:
                    for statement in p.create_statements(views.dialect):
                        cur.execute(statement)
            _replay(store, views, projections, position, progress)
            with views.transaction() as cur:
                for p in projections:
                    for statement in p.index_statements(views.dialect):
                        cur.execute(statement)
                    cur.execute(f"INSERT INTO {TRACKING_TABLE} (name, version, position)"
                                " VALUES (?, ?, ?)", (p.name, p.version, position))
            yield views
        finally:
            views.close()


def _replay(store: Store, views: ViewsDb, projections: Sequence[Projection], position: int,
            progress: Progress | None) -> None:
    topics = event_topics(projections)
    type_names: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-reader") as reader:
        # The next page is read while this one is applied (the driver releases the GIL).
        pending: Future[list[tuple[int, str, bytes, Any]]] | None = reader.submit(
            store.raw_notifications, 0, PAGE_SIZE_EVENTS, position, topics)
        while pending is not None:
            rows = pending.result()
            if not rows:
                break
            after = rows[-1][0]
            pending = reader.submit(store.raw_notifications, after, PAGE_SIZE_EVENTS, position,
                                    topics) if after < position else None
            _apply(store, views, projections, rows, type_names)
            if progress:
                progress(after, position)
    if progress:
        progress(position, position)


def _apply(store: Store, views: ViewsDb, projections: Sequence[Projection],
           rows: list[tuple[int, str, bytes, Any]], type_names: dict[str, str]) -> None:
    """One page into every projection, in one transaction. As the runner does: a page's many
    small containers all live until it is applied, and make no cycles — the cyclic GC would
    only scan them again and again, so it pauses for the page."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        page = decode_page(store.decode_state, rows, type_names)
        with views.transaction() as cur:
            for p in projections:  # each takes the events it reads, as from the runner
                p.apply(cur, page)
    finally:
        if gc_was_enabled:
            gc.enable()
