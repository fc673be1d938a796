"""A month on record is changed only by reversing it (红冲) and posting it again."""

from __future__ import annotations

import pytest

from domain.contribution import ContributionMonth
from domain.errors import Conflict, NotFound
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from tests.helpers import seed_region


def test_a_posting_that_differs_from_the_month_on_record_is_refused_until_reversed(
        container: Container) -> None:
    region = seed_region(container, persons=1)
    number, code = region.id_numbers[0], region.employer_code
    ledger, store = container.ledger, container.store
    ledger.post_contribution(number, code, "2023-03")
    head = store.max_position()
    with pytest.raises(Conflict) as info:
        ledger.post_contribution(number, code, "2023-03", base_fen=900_000)
    assert (info.value.code, info.value.field) == ("month_already_posted", "period")
    refused = BulkPoster(store, container.policy, "test").post(
        [PostingRequest(number, code, "2023-03", base_fen=900_000)])
    assert [(o.status, o.code) for o in refused.outcomes] == [("rejected",
                                                               "month_already_posted")]
    assert store.max_position() == head

    ledger.reverse_contribution(number, "2023-03", "wrong base")
    corrected = ledger.post_contribution(number, code, "2023-03", base_fen=900_000)
    assert corrected.result["lines"][0][1] == 900_000
    month: ContributionMonth = store.app.repository.get(
        ContributionMonth.create_id(region.person_ids[0], "2023-03"))
    assert (month.status, month.reversals, month.lines[0][1]) == ("posted", 1, 900_000)


def test_a_reversed_month_can_be_posted_again_through_the_bulk_path(container: Container) -> None:
    region = seed_region(container, persons=1)
    number, code = region.id_numbers[0], region.employer_code
    container.ledger.post_contribution(number, code, "2023-04")
    container.ledger.reverse_contribution(number, "2023-04", "posted twice by the bank")
    result = BulkPoster(container.store, container.policy, "test").post(
        [PostingRequest(number, code, "2023-04")])
    assert [o.status for o in result.outcomes] == ["posted"]
    month: ContributionMonth = container.store.app.repository.get(
        ContributionMonth.create_id(region.person_ids[0], "2023-04"))
    assert month.status == "posted"


def test_reversing_twice_with_the_same_reason_is_a_no_op(container: Container) -> None:
    region = seed_region(container, persons=1)
    number, code = region.id_numbers[0], region.employer_code
    ledger, store = container.ledger, container.store
    ledger.post_contribution(number, code, "2023-05")
    first = ledger.reverse_contribution(number, "2023-05", "wrong base")
    head = store.max_position()
    again = ledger.reverse_contribution(number, "2023-05", "wrong base")
    assert again.result == first.result
    assert again.result["reversals"] == 1
    assert store.max_position() == head


def test_reversing_a_reversed_month_for_another_reason_is_refused(container: Container) -> None:
    region = seed_region(container, persons=1)
    number, code = region.id_numbers[0], region.employer_code
    ledger, store = container.ledger, container.store
    ledger.post_contribution(number, code, "2023-05")
    ledger.reverse_contribution(number, "2023-05", "wrong base")
    head = store.max_position()
    with pytest.raises(Conflict) as info:
        ledger.reverse_contribution(number, "2023-05", "another reason")
    assert info.value.code == "month_not_posted"
    assert store.max_position() == head


def test_reversing_a_month_never_posted_is_refused(container: Container) -> None:
    region = seed_region(container, persons=1)
    head = container.store.max_position()
    with pytest.raises(NotFound) as info:
        container.ledger.reverse_contribution(region.id_numbers[0], "2023-06", "typo")
    assert (info.value.code, info.value.field) == ("month_not_posted", "period")
    assert container.store.max_position() == head


def test_a_reversal_takes_the_month_out_of_the_account_and_history(container: Container) -> None:
    region = seed_region(container, persons=1)
    number, code = region.id_numbers[0], region.employer_code
    person = region.person_ids[0]
    ledger, queries = container.ledger, container.queries
    ledger.post_contribution(number, code, "2023-01")
    ledger.post_contribution(number, code, "2023-02")
    ledger.reverse_contribution(number, "2023-02", "not employed in February")
    container.runner.catch_up()
    assert queries.account_balance(person)["balance_fen"] == 80_000
    history = queries.history(person)
    assert [(h["period"], h["kind"], h["account_fen"]) for h in history] == [
        ("2023-01", "posted", 80_000), ("2023-02", "posted", 80_000),
        ("2023-02", "reversed", -80_000)]
