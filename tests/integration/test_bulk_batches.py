"""A bulk file is cut into bounded batches (with more than one batch, a forked worker builds the
next batch while this process writes the previous one). However the lines fall into batches,
in one process or two, each line gets exactly one outcome, a month is never posted twice, and
the statuses are those of one big batch."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.settings import Settings
from tests.helpers import cli, fresh_container, make_credit_code, make_id_number, seed_region

CONFLICT_CODES = {"month_twice_in_batch", "month_already_posted"}


def post(container: Container, requests: list[PostingRequest],
         batch_size: int, worker: bool = False) -> list[tuple[str, str]]:
    result = BulkPoster(container.store, container.policy, "test").post(
        requests, batch_size=batch_size, worker=worker)
    assert [o.index for o in result.outcomes] == list(range(len(requests)))
    assert result.position == container.store.max_position()
    return [(o.status, o.code) for o in result.outcomes]


@pytest.mark.parametrize("worker", [False, True], ids=["one-process", "worker"])
def test_a_month_repeated_in_a_later_batch_is_a_duplicate_or_a_conflict(
        container: Container, worker: bool) -> None:
    region = seed_region(container, persons=2)
    a, b = region.id_numbers
    code = region.employer_code
    requests = [
        PostingRequest(a, code, "2023-01"), PostingRequest(b, code, "2023-01"),  # batch 1
        PostingRequest(a, code, "2023-01"), PostingRequest(b, code, "2023-02"),  # batch 2
        PostingRequest(b, code, "2023-01", base_fen=900_000),  # batch 3
        PostingRequest(a, code, "2023-02"),
    ]
    assert post(container, requests, batch_size=2, worker=worker) == [
        ("posted", ""), ("posted", ""),
        ("duplicate", ""), ("posted", ""),
        ("rejected", "month_already_posted"), ("posted", ""),
    ]
    container.runner.catch_up()
    months = sorted((h["period"], h["kind"]) for p in region.person_ids
                    for h in container.queries.history(p))
    assert months == [("2023-01", "posted")] * 2 + [("2023-02", "posted")] * 2


def one_batch_statuses(requests: list[PostingRequest]) -> list[str]:
    """The first line of a month is posted, a later identical one is a duplicate, a later
    different one is rejected."""
    first: dict[tuple[str, str], int | None] = {}
    statuses = []
    for r in requests:
        key = (r.id_number, r.period)
        if key not in first:
            first[key] = r.base_fen
            statuses.append("posted")
        else:
            statuses.append("duplicate" if first[key] == r.base_fen else "rejected")
    return statuses


@hypothesis_settings(max_examples=10, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(st.integers(0, 2), st.sampled_from(("2023-01", "2023-02")),
                                st.sampled_from((None, 900_000))), min_size=1, max_size=12),
       batch_size=st.integers(1, 5), worker=st.booleans())
def test_the_statuses_do_not_depend_on_how_the_file_is_batched(
        settings: Settings, lines: list[tuple[int, str, int | None]], batch_size: int,
        worker: bool) -> None:
    with fresh_container(settings) as container:
        region = seed_region(container, persons=3)
        requests = [PostingRequest(region.id_numbers[p], region.employer_code, month, base)
                    for p, month, base in lines]
        got = post(container, requests, batch_size, worker)
        assert [status for status, _code in got] == one_batch_statuses(requests)
        assert {code for status, code in got if status == "rejected"} <= CONFLICT_CODES
        months = {(r.id_number, r.period) for r in requests}
        container.runner.catch_up()
        history = [h for p in region.person_ids for h in container.queries.history(p)]
        assert len(history) == len(months)  # each month posted exactly once


def test_the_worker_gives_every_line_the_outcome_one_process_gives(
        settings: Settings) -> None:
    """Bad numbers, unknown persons and employers, bad periods and bases, twins, a month on
    record: the forked worker and one process agree line by line, and post the same."""
    results = []
    for worker in (False, True):
        with fresh_container(settings) as container:
            region = seed_region(container, persons=3)
            a, b, c = region.id_numbers
            code = region.employer_code
            container.ledger.post_contribution(c, code, "2023-03", 800_000)
            bad_id = a[:-1] + ("0" if a[-1] != "0" else "1")
            requests = [
                PostingRequest(a, code, "2023-01", 800_000),
                PostingRequest(bad_id, code, "2023-01", 800_000),
                PostingRequest(make_id_number(999), code, "2023-01", 800_000),
                PostingRequest(b, make_credit_code(999), "2023-01", 800_000),
                PostingRequest(b, code, "2023-13", 800_000),
                PostingRequest(b, code, "2023-01", -5),
                PostingRequest(a, code, "2023-01", 800_000),  # twin: duplicate
                PostingRequest(a, code, "2023-01", 900_000),  # twin: other amounts
                PostingRequest(c, code, "2023-03", 800_000),  # on record: duplicate
                PostingRequest(c, code, "2023-03", 900_000),  # on record, other amounts
                PostingRequest(b, code, "2023-02"),  # base from the 2023 declaration
                PostingRequest(b, code, "2023-02", 999_999_999),  # above the cap
            ]
            got = post(container, requests, batch_size=3, worker=worker)
            container.runner.catch_up()
            history = sorted((h["period"], h["kind"], h["employer_fen"])
                             for p in region.person_ids
                             for h in container.queries.history(p))
            results.append((got, history))
    assert results[0] == results[1]
    statuses = [status for status, _code in results[0][0]]
    assert statuses.count("posted") == 2 and "duplicate" in statuses


def test_a_bulk_post_leaves_the_events_table_with_planner_statistics(
        container: Container) -> None:
    """Autovacuum's ANALYZE of the events table is cancelled by every writer's table lock; the
    bulk path gathers the statistics itself (infra/store.py refresh_statistics), once: fresh
    statistics are not gathered again."""
    region = seed_region(container, persons=3)
    requests = [PostingRequest(number, region.employer_code, f"2023-{m:02d}")
                for number in region.id_numbers for m in range(1, 7)]
    assert len(post(container, requests, batch_size=5)) == 18
    store = container.store
    if not store.is_postgres:
        assert store.refresh_statistics() is False  # nothing to do on SQLite
        return
    [(tuples,)] = store.select_rows(
        "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (store.events_table,))
    assert tuples >= store.max_position() > 0  # analysed: -1 before any statistics
    assert store.refresh_statistics() is False


def test_the_events_table_is_vacuumed_frozen_and_analysed_on_request(
        container: Container) -> None:
    """`shebao store vacuum`: the maintenance autovacuum never finishes on the events table."""
    region = seed_region(container, persons=2)
    requests = [PostingRequest(number, region.employer_code, "2023-01")
                for number in region.id_numbers]
    assert [status for status, _code in post(container, requests, batch_size=5)] == [
        "posted", "posted"]
    output = cli(container.settings)("store", "vacuum")
    store = container.store
    if not store.is_postgres:
        assert "SQLite: nothing to vacuum" in output
        return
    assert "vacuumed, frozen and analysed" in output
    # last_vacuum and last_analyze: by hand (autovacuum sets last_autovacuum/-analyze)
    [(vacuumed, analysed)] = store.select_rows(
        "SELECT last_vacuum IS NOT NULL, last_analyze IS NOT NULL FROM pg_stat_user_tables"
        " WHERE relid = %s::regclass", (store.events_table,))
    assert vacuumed and analysed
    # the store is still written to and read afterwards
    assert container.ledger.post_contribution(region.id_numbers[0], region.employer_code,
                                              "2023-02").result
