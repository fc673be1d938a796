"""Clearing suspense (暂收/挂账): a clerk assigns a held line to a person and period, which posts
it in the same transaction (the first line of a month creates it, the next ones supplement it),
or refunds it; nothing leaves suspense without a recorded decision, a decision is made once, and
the books balance throughout. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from domain.contribution import ContributionMonth
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.journal import reversed_lines
from domain.money import yuan_text_to_fen
from domain.suspense import SuspenseItem
from infra.bootstrap import Container
from infra.collection_import import import_collections
from infra.suspense_service import assign_suspense, refund_suspense
from tests.helpers import (
    SEED_WAGE_FEN,
    all_events,
    make_credit_code,
    make_id_number,
    seed_region,
)
from tests.integration.test_collection_import import month_rows, write_file

PERIOD = "2023-01"


def row_fen(row: dict[str, str]) -> int:
    return (yuan_text_to_fen(row["employer_amount"], "employer_amount")
            + yuan_text_to_fen(row["individual_amount"], "individual_amount"))


def balances(container: Container) -> dict[str, dict[str, Any]]:
    container.runner.catch_up()
    return {f["account"]: f for f in container.queries.fund_balances()}


def assert_trial_balance(container: Container) -> None:
    funds = balances(container).values()
    assert sum(f["debit_fen"] for f in funds) == sum(f["credit_fen"] for f in funds)


def held_unknown_month(container: Container, tmp_path: Path
                       ) -> tuple[str, str, list[dict[str, str]]]:
    """An import whose one month belongs to a person not registered: five suspense items."""
    region = seed_region(container, persons=1)
    number = make_id_number(900)
    rows = month_rows(container, number, region.employer_code, PERIOD, "H")
    summary = import_collections(container, write_file(tmp_path / "h.csv", rows))
    assert summary.suspense_reasons == {"person_not_registered": 5}
    return number, region.employer_code, rows


def register(container: Container, number: str, base: bool = True) -> str:
    done = container.ledger.register_person(number, "新参保", registered_on="2015-01-01")
    if base:
        container.ledger.declare_base(number, 2023, SEED_WAGE_FEN)
    return str(done.result["person_id"])


def test_assigning_each_item_posts_the_month_and_empties_suspense(
        container: Container, tmp_path: Path) -> None:
    number, _code, rows = held_unknown_month(container, tmp_path)
    total_fen = sum(row_fen(r) for r in rows)
    assert balances(container)["suspense"]["balance_fen"] == -total_fen
    person_id = register(container, number)
    *assigned_rows, refunded_row = rows

    for row in assigned_rows:
        done = assign_suspense(container, row["serial_no"], number, PERIOD,
                               reason="ID number confirmed with the employer",
                               decided_by="clerk1")
        assert done.result["status"] == "assigned"
        assert done.result["person_id"] == person_id
        assert_trial_balance(container)
    refund = refund_suspense(container, refunded_row["serial_no"], reason="错收: not insured",
                             reference="TF-2023-0001", decided_by="clerk1")
    assert refund.result["status"] == "refunded"

    month: ContributionMonth = container.store.app.repository.get(
        ContributionMonth.create_id(person_id, PERIOD))
    assert [line[0] for line in month.lines] == [r["insurance"] for r in assigned_rows]
    assert month.serials == [r["serial_no"] for r in assigned_rows]
    month_events = [type(e).__qualname__ for e in all_events(container)
                    if e.originator_id == month.id]
    assert month_events == ["ContributionMonth.Posted"] + ["ContributionMonth.Supplemented"] * 3
    for row in rows:
        item: SuspenseItem = container.store.app.repository.get(
            SuspenseItem.create_id(container.settings.region_code, row["serial_no"]))
        assert item.status == ("refunded" if row is refunded_row else "assigned")

    funds = balances(container)
    assert funds["suspense"]["balance_fen"] == 0
    assert funds["bank:payout"]["credit_fen"] == row_fen(refunded_row)
    assert_trial_balance(container)
    # the pension's 8% reached the personal account, as for an imported month
    pension = next(r for r in rows if r["insurance"] == "110")
    account = container.queries.account_balance(person_id)
    assert account["balance_fen"] == yuan_text_to_fen(pension["individual_amount"], "x")
    history = container.queries.history(person_id)
    assert [h["kind"] for h in history] == ["posted"] * 4
    assert sum(h["employer_fen"] + h["individual_fen"] for h in history) == sum(
        row_fen(r) for r in assigned_rows)

    listed = {i["serial_no"]: i for i in container.queries.suspense_items()}
    assert {i["status"] for i in listed.values()} == {"assigned", "refunded"}
    first = listed[assigned_rows[0]["serial_no"]]
    assert (first["month_id"], first["assigned_period"], first["decided_by"]) == (
        str(month.id), PERIOD, "clerk1")
    assert listed[refunded_row["serial_no"]]["refund_reference"] == "TF-2023-0001"
    assert container.queries.suspense_items(status="held") == []

    # a reversal of the supplemented month reverses all of it
    container.ledger.reverse_contribution(number, PERIOD, "wrong person")
    month = container.store.app.repository.get(month.id)
    assert month.status == "reversed"
    reversal = [e for e in all_events(container) if e.originator_id == month.id][-1]
    assert reversal.journal == reversed_lines(month.journal)
    assert len(reversal.lines) == 4
    assert_trial_balance(container)

    # ... and its money is back in suspense, each fen owned by an item held again
    assigned_fen = sum(row_fen(r) for r in assigned_rows)
    assert balances(container)["suspense"]["balance_fen"] == -assigned_fen
    held = container.queries.suspense_items(status="held")
    assert sorted(i["serial_no"] for i in held) == sorted(r["serial_no"] for r in assigned_rows)
    assert sum(i["amount_fen"] for i in held) == assigned_fen
    assert all(i["decision_reason"].startswith("reopened: month 2023-01 reversed")
               and i["month_id"] is None for i in held)
    # a reopened item is decided anew: assigned to the reversed month, it posts it again
    again = assign_suspense(container, assigned_rows[0]["serial_no"], number, PERIOD,
                            reason="right person after all", decided_by="clerk2")
    assert again.result["status"] == "assigned"
    month = container.store.app.repository.get(month.id)
    assert (month.status, month.serials) == ("posted", [assigned_rows[0]["serial_no"]])
    assert balances(container)["suspense"]["balance_fen"] == -(
        assigned_fen - row_fen(assigned_rows[0]))
    assert_trial_balance(container)


def test_a_decision_is_made_once_and_the_same_decision_again_is_a_no_op(
        container: Container, tmp_path: Path) -> None:
    number, _code, rows = held_unknown_month(container, tmp_path)
    register(container, number)
    serial = rows[0]["serial_no"]
    first = assign_suspense(container, serial, number, PERIOD, "confirmed", "clerk1")
    head = container.store.max_position()

    again = assign_suspense(container, serial, number, PERIOD, "confirmed", "clerk2")
    assert again.result == first.result
    assert container.store.max_position() == head

    with pytest.raises(Conflict) as other_period:
        assign_suspense(container, serial, number, "2023-02", "confirmed", "clerk1")
    assert other_period.value.code == "suspense_already_decided"
    with pytest.raises(Conflict) as refund:
        refund_suspense(container, serial, "not ours", "TF-1", "clerk1")
    assert refund.value.code == "suspense_already_decided"

    # refund, then the same refund again, then another refund reference
    refunded = refund_suspense(container, rows[1]["serial_no"], "not ours", "TF-1", "clerk1")
    head = container.store.max_position()
    assert refund_suspense(container, rows[1]["serial_no"], "not ours", "TF-1",
                           "clerk1").result == refunded.result
    assert container.store.max_position() == head
    with pytest.raises(Conflict, match="refunded already"):
        refund_suspense(container, rows[1]["serial_no"], "not ours", "TF-2", "clerk1")
    assert container.store.max_position() == head


def test_an_idempotency_key_replays_the_decision(container: Container, tmp_path: Path) -> None:
    number, _code, rows = held_unknown_month(container, tmp_path)
    register(container, number)
    serial = rows[0]["serial_no"]
    done = assign_suspense(container, serial, number, PERIOD, "confirmed", "clerk1",
                           idempotency_key="k-1")
    head = container.store.max_position()
    replay = assign_suspense(container, serial, number, PERIOD, "confirmed", "clerk1",
                             idempotency_key="k-1")
    assert replay.replayed and replay.result == done.result
    assert container.store.max_position() == head
    with pytest.raises(Conflict) as reused:
        refund_suspense(container, rows[1]["serial_no"], "x", "TF-9", "clerk1",
                        idempotency_key="k-1")
    assert reused.value.code == "idempotency_key_reused"


def test_an_insurance_already_in_the_month_is_refused_and_a_reversed_month_reposted(
        container: Container, tmp_path: Path) -> None:
    region = seed_region(container, persons=1)
    number, code = region.id_numbers[0], region.employer_code
    import_collections(container, write_file(
        tmp_path / "a.csv", month_rows(container, number, code, "2023-02", "A")))
    twice = month_rows(container, number, code, "2023-02", "B")
    held = import_collections(container, write_file(tmp_path / "b.csv", twice))
    assert held.suspense_reasons == {"collected_twice": 5}
    head = container.store.max_position()

    with pytest.raises(Conflict) as posted:
        assign_suspense(container, twice[0]["serial_no"], number, "2023-02", "same month", "c1")
    assert posted.value.code == "insurance_already_posted"
    assert container.store.max_position() == head
    item: SuspenseItem = container.store.app.repository.get(
        SuspenseItem.create_id(container.settings.region_code, twice[0]["serial_no"]))
    assert item.status == "held"
    # the month reversed (红冲), the held line may be posted into it
    container.ledger.reverse_contribution(number, "2023-02", "posted from the wrong lines")
    assign_suspense(container, twice[0]["serial_no"], number, "2023-02", "the right line", "c1")
    month: ContributionMonth = container.store.app.repository.get(
        ContributionMonth.create_id(region.person_ids[0], "2023-02"))
    assert (month.status, month.serials) == ("posted", [twice[0]["serial_no"]])


def test_refusals_name_what_is_missing(container: Container, tmp_path: Path) -> None:
    number, _code, rows = held_unknown_month(container, tmp_path)
    serial = rows[0]["serial_no"]
    head = container.store.max_position()
    with pytest.raises(NotFound) as person:
        assign_suspense(container, serial, number, PERIOD, "confirmed", "clerk1")
    assert person.value.code == "person_not_registered"
    register(container, number, base=False)
    head = container.store.max_position()
    with pytest.raises(NotFound) as unknown:
        assign_suspense(container, "NO-SUCH", number, PERIOD, "confirmed", "clerk1")
    assert unknown.value.code == "suspense_not_found"
    with pytest.raises(ValidationFailed) as reason:
        assign_suspense(container, serial, number, PERIOD, "  ", "clerk1")
    assert reason.value.code == "reason_missing"
    with pytest.raises(ValidationFailed) as period:
        assign_suspense(container, serial, number, "2023-13", "confirmed", "clerk1")
    assert period.value.code == "period_out_of_range"
    with pytest.raises(NotFound) as employer:
        assign_suspense(container, serial, number, PERIOD, "confirmed", "clerk1",
                        employer_code=make_credit_code(99))
    assert employer.value.code == "employer_not_registered"
    with pytest.raises(ValidationFailed) as reference:
        refund_suspense(container, serial, "not ours", " ", "clerk1")
    assert reference.value.code == "reference_missing"
    assert container.store.max_position() == head

    # without a declared base the money is still posted as collected (no assessment)
    done = assign_suspense(container, serial, number, PERIOD, "confirmed", "clerk1")
    month: ContributionMonth = container.store.app.repository.get(
        ContributionMonth.create_id(done.result["person_id"], PERIOD))
    assert month.lines[0][0] == rows[0]["insurance"]


def test_rebuilt_read_models_equal_the_incremental_ones(
        container: Container, tmp_path: Path) -> None:
    number, _code, rows = held_unknown_month(container, tmp_path)
    register(container, number)
    container.runner.catch_up()  # the holds in one page, the decisions in later ones
    for row in rows[:3]:
        assign_suspense(container, row["serial_no"], number, PERIOD, "confirmed", "clerk1")
        container.runner.catch_up()
    refund_suspense(container, rows[3]["serial_no"], "not ours", "TF-1", "clerk1")
    container.runner.catch_up()
    tables = ("suspense_items", "contribution_history", "fund_balances",
              "person_account_entries")

    def snapshot() -> dict[str, list[tuple[Any, ...]]]:
        return {t: sorted(tuple(r) for r in container.views.query(f"SELECT * FROM {t}"))
                for t in tables}

    before = snapshot()
    assert len(before["suspense_items"]) == 5
    container.runner.rebuild()
    assert snapshot() == before


def test_the_command_line_lists_assigns_and_refunds(container: Container, tmp_path: Path
                                                    ) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    number, _code, rows = held_unknown_month(container, tmp_path)
    register(container, number)
    s = container.settings
    options = ["--region", s.region_code, "--data-dir", str(s.data_dir)]
    if s.pg_dsn:
        options += ["--pg-dsn", s.pg_dsn]
    runner = CliRunner()

    listed = runner.invoke(app, [*options, "suspense", "list", "--status", "held"])
    assert listed.exit_code == 0, listed.output
    assert rows[0]["serial_no"] in listed.output and number not in listed.output
    assigned = runner.invoke(app, [*options, "suspense", "assign", rows[0]["serial_no"],
                                   "--id-number", number, "--period", PERIOD,
                                   "--reason", "confirmed"])
    assert assigned.exit_code == 0, assigned.output
    refunded = runner.invoke(app, [*options, "suspense", "refund", rows[1]["serial_no"],
                                   "--reason", "not ours", "--reference", "TF-7"])
    assert refunded.exit_code == 0, refunded.output
    again = runner.invoke(app, [*options, "suspense", "refund", rows[0]["serial_no"],
                                "--reason", "not ours", "--reference", "TF-8"])
    assert again.exit_code == 1 and "suspense_already_decided" in again.output
    container.runner.catch_up()
    decided = {i["serial_no"]: i for i in container.queries.suspense_items()}
    assert decided[rows[0]["serial_no"]]["decided_by"] == "cli"
    assert decided[rows[1]["serial_no"]]["status"] == "refunded"
