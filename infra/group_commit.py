"""Group commit: many threads that each must write a few small items before they go on share
one transaction instead of queueing one transaction each on the store's write lock.

The first caller to find nobody writing becomes the leader: it takes every item gathered so far
(its own and those of callers that arrived meanwhile) and writes them in one call; the others
wait until the batch holding their items is written (or failed, which each of them then raises).
While a batch is written the next one gathers, and one of its callers leads it when the write
ends. Alone, a caller writes at once; under load a batch holds what arrived during one write.
No thread of its own: nothing to start or stop."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

BATCH_ITEMS_MAX = 1000  # a caller that finds the gathering batch full waits for the next


class _Batch(Generic[T]):
    __slots__ = ("done", "error", "items", "result")

    def __init__(self) -> None:
        self.items: list[T] = []
        self.done = False
        self.result = 0
        self.error: BaseException | None = None


class GroupCommit(Generic[T]):
    def __init__(self, write: Callable[[list[T]], int],
                 batch_items_max: int = BATCH_ITEMS_MAX) -> None:
        """`write(items)` writes them in one transaction and returns e.g. the log position."""
        self._write = write
        self._batch_items_max = batch_items_max
        self._cond = threading.Condition()
        self._gathering: _Batch[T] = _Batch()
        self._writing = False

    def submit(self, items: Sequence[T]) -> int:
        """Write `items` (with whatever else is gathered) and return what `write` returned for
        their batch; raises what it raised. Returns only once the items are written."""
        assert 0 < len(items) <= self._batch_items_max, len(items)
        with self._cond:
            while len(self._gathering.items) + len(items) > self._batch_items_max:
                self._cond.wait()
            batch = self._gathering
            batch.items.extend(items)
            # Wait while our batch is being written by another, or gathers behind a write.
            while not batch.done and (self._writing or batch is not self._gathering):
                self._cond.wait()
            leader = not batch.done  # nobody writes and ours gathers: lead it
            if leader:
                self._writing = True
                self._gathering = _Batch()
                self._cond.notify_all()  # callers waiting for room may join the next batch
        if leader:
            try:
                batch.result = self._write(batch.items)
            except BaseException as e:
                batch.error = e
                raise
            finally:
                with self._cond:
                    batch.done = True
                    self._writing = False
                    self._cond.notify_all()
        elif batch.error is not None:  # the leader raises the error itself; each other caller:
            raise BatchFailed(f"the batch holding these items was not written: "
                              f"{batch.error!r}") from batch.error
        return batch.result


class BatchFailed(RuntimeError):
    """Another caller's write of the batch holding this caller's items failed."""
