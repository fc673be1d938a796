"""Read models rebuilt from zero equal the ones kept up incrementally, whatever the mix of bulk
and single postings, reversals, re-postings, interest and back-payments, and wherever catch-up
ran between."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from domain.errors import DomainError
from infra.backpay_service import assess_backpay, collect_backpay
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.interest_service import credit_interest
from infra.settings import Settings
from tests.helpers import (
    SeededRegion,
    cli,
    fresh_container,
    journal_sums,
    read_model_rows,
    seed_region,
)

PERSONS = 3
PERIODS = ("2022-11", "2022-12", "2023-01", "2023-02")
BASES_FEN = (None, 800_000, 1_200_000)  # None: the declared base

person = st.integers(0, PERSONS - 1)
period = st.sampled_from(PERIODS)
base = st.sampled_from(BASES_FEN)
command = st.one_of(
    st.tuples(st.just("bulk"), st.lists(st.tuples(person, period, base), min_size=1,
                                        max_size=6)),
    st.tuples(st.just("post"), person, period, base),
    st.tuples(st.just("reverse"), person, period, st.sampled_from(("wrong base", "typo"))),
    st.tuples(st.just("interest"), st.sampled_from((2022, 2023))),
    st.tuples(st.just("backpay"), person, period),
    st.tuples(st.just("catch_up")),
)


def run(container: Container, region: SeededRegion, step: tuple[Any, ...]) -> None:
    kind = step[0]
    numbers, code = region.id_numbers, region.employer_code
    try:
        if kind == "bulk":
            BulkPoster(container.store, container.policy, "test").post(
                [PostingRequest(numbers[p], code, month, b) for p, month, b in step[1]])
        elif kind == "post":
            container.ledger.post_contribution(numbers[step[1]], code, step[2], step[3])
        elif kind == "reverse":
            container.ledger.reverse_contribution(numbers[step[1]], step[2], step[3])
        elif kind == "backpay":  # one month assessed and collected at once
            assessed = assess_backpay(container, numbers[step[1]], code, step[2], step[2],
                                      "2024-06-30", "payroll found", "clerk").result
            collect_backpay(container, assessed["backpay_id"], "2024-06-01", "BP",
                            assessed["total_fen"], "tax")
        elif kind == "interest":
            credit_interest(container.store, container.policy, container.runner,
                            container.queries, step[1])
        else:
            container.runner.catch_up()
    except DomainError:
        pass  # refused commands (a conflicting re-post, a reversal of nothing) write nothing


def check_rebuild_equals_incremental(container: Container,
                                     steps: list[tuple[Any, ...]]) -> None:
    region = seed_region(container, persons=PERSONS, year=2022, years=(2023,))
    for step in steps:
        run(container, region, step)
        if step[0] != "catch_up":
            container.runner.catch_up(page_size=7)  # small pages: page edges get exercised
    incremental = read_model_rows(container)
    assert container.runner.position() == container.store.max_position()
    container.runner.rebuild()
    assert read_model_rows(container) == incremental
    funds = {r["account"]: (r["debit_fen"], r["credit_fen"])
             for r in container.queries.fund_balances()}
    assert funds == journal_sums(container)


FIXED_SCENARIO: list[tuple[Any, ...]] = [
    ("bulk", [(0, "2022-11", None), (1, "2022-11", None), (2, "2022-12", 800_000)]),
    ("post", 0, "2022-12", None),
    ("interest", 2022),
    ("reverse", 0, "2022-12", "wrong base"),
    ("post", 0, "2022-12", 1_200_000),
    ("bulk", [(p, m, None) for p in range(PERSONS) for m in ("2023-01", "2023-02")]),
    ("reverse", 1, "2023-01", "typo"),
    ("bulk", [(1, "2023-01", 800_000), (2, "2023-02", None)]),  # re-post and a duplicate
    ("interest", 2023),
    ("backpay", 2, "2022-11"),  # interest of 2022 and 2023 recomputed
]


def test_a_rebuild_from_zero_equals_the_incremental_read_models(settings: Settings) -> None:
    with fresh_container(settings) as container:
        check_rebuild_equals_incremental(container, FIXED_SCENARIO)
        rows = read_model_rows(container)
        assert len(rows["person_account_entries"]) > 10
        assert [r[4] for r in rows["backpayments"]] == ["collected"]
        assert any(r[1] > 0 for r in rows["interest_years"])  # a recomputation happened


@hypothesis_settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(command, min_size=1, max_size=10))
def test_any_command_sequence_rebuilds_to_the_incremental_read_models(
        settings: Settings, steps: list[tuple[Any, ...]]) -> None:
    with fresh_container(settings) as container:
        check_rebuild_equals_incremental(container, steps)


def test_clustering_rewrites_the_person_tables_in_person_order_and_changes_no_row(
        settings: Settings) -> None:
    """`shebao projections cluster`: on PostgreSQL the tables read person by person are
    rewritten in the order of their person index (the index is marked clustered) with the same
    rows, and the read models follow on afterwards; on SQLite it says there is nothing to do."""
    with fresh_container(settings) as container:
        region = seed_region(container)
        for step in FIXED_SCENARIO:
            run(container, region, step)
        container.runner.catch_up()
        before = read_model_rows(container)
        run_cli = cli(replace(settings, region_code=container.settings.region_code))
        output = run_cli("projections", "cluster")
        if settings.pg_dsn:
            assert "3 table(s) clustered" in output
            clustered = {str(row[0]) for row in container.views.query(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
                " WHERE i.indisclustered AND c.relnamespace = current_schema()::regnamespace")}
            assert clustered == {"person_facts", "contribution_history",
                                 "person_account_entries"}
        else:
            assert "nothing to cluster" in output
        assert read_model_rows(container) == before
        container.ledger.post_contribution(region.id_numbers[0], region.employer_code,
                                           "2023-03", None)
        container.runner.catch_up()
        assert len(read_model_rows(container)["contribution_history"]) == len(
            before["contribution_history"]) + 1
        refused = run_cli("projections", "cluster", "no_such_projection", code=2)
        assert "unknown projection(s): no_such_projection; known: " in refused
        assert "unknown projection(s): nope" in run_cli("projections", "rebuild", "nope", code=2)
