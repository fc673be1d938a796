"""One catch-up of a region at a time across processes (infra/catch_up_lock.py): two containers
on one store stand for two processes (each has its own PostgreSQL session / lock file handle,
which is what the lock is held by)."""

from __future__ import annotations

import threading
import time

from infra.bootstrap import Container
from infra.settings import Settings
from tests.helpers import read_model_rows, seed_region


def test_the_lock_excludes_a_second_holder_and_is_reentrant(settings: Settings) -> None:
    with Container.open(settings) as a, Container.open(settings) as b:
        with a.runner.lock.held() as got_a:
            assert got_a
            with a.runner.lock.held(wait=False) as again:  # the same holder: nested
                assert again
            with b.runner.lock.held(wait=False) as got_b:
                assert not got_b  # still held by a after its nested release
        with b.runner.lock.held(wait=False) as got_b:
            assert got_b


def test_a_catch_up_waits_for_anothers_and_applies_nothing_twice(settings: Settings) -> None:
    with Container.open(settings) as a:
        region = seed_region(a, persons=3)
        for number in region.id_numbers:
            a.ledger.post_contribution(number, region.employer_code, "2023-01")
        with Container.open(settings) as b:
            head = b.store.max_position()
            done = threading.Event()

            def b_catches_up() -> None:
                b.runner.catch_up()
                done.set()

            with a.runner.lock.held():
                thread = threading.Thread(target=b_catches_up)
                thread.start()
                time.sleep(0.3)
                assert not done.is_set(), "b caught up while a held the region's lock"
                assert b.runner.position() < head
                a.runner.catch_up()  # nested: a holds the lock already
            thread.join(timeout=30)
            assert done.is_set()
            assert b.runner.position() == head
            rows_seen_by_b = read_model_rows(b)
        # Rebuilt from zero: equal to what two racing runners left (nothing applied twice).
        a.runner.rebuild()
        assert read_model_rows(a) == rows_seen_by_b


def test_waiting_for_a_position_followed_elsewhere_never_catches_up_here(
        settings: Settings) -> None:
    with Container.open(settings) as follower, Container.open(settings) as worker:
        worker.runner.followed_elsewhere = True
        region = seed_region(worker, persons=1)
        head = worker.store.max_position()
        assert region.id_numbers
        assert not worker.runner.wait_for(head, timeout_seconds=0.3)  # nobody follows yet
        follower.runner.start()
        assert worker.runner.wait_for(head, timeout_seconds=20)
