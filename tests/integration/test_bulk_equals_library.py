"""The bulk path writes the events the library would write: the aggregate read back from a bulk
posting equals one made with `ContributionMonth(...)`, and the stored JSON has the same keys in
the same order (and the same bytes, timestamp aside)."""

from __future__ import annotations

from typing import Any

from domain.assessment import posting_journal
from domain.contribution import ContributionMonth
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from tests.helpers import seed_region

STATE_ATTRIBUTES = ("id", "version", "person_id", "employer_code", "period", "lines", "journal",
                    "status", "reversals")
SOURCE = "tax-file-2023-01"


def stored_state(container: Container, month_id: Any) -> dict[str, Any]:
    [stored] = container.store.recorder.select_events(month_id)
    return container.store.decode_state(stored.state)


def test_a_bulk_posted_month_decodes_equal_to_one_made_by_the_aggregate(
        container: Container) -> None:
    region = seed_region(container, persons=1)
    person = region.person_ids[0]
    result = BulkPoster(container.store, container.policy, SOURCE).post(
        [PostingRequest(region.id_numbers[0], region.employer_code, "2023-01")])
    assert result.summary()["posted"] == 1

    month_id = ContributionMonth.create_id(person, "2023-01")
    from_bulk: ContributionMonth = container.store.app.repository.get(month_id)
    lines = from_bulk.lines
    made = ContributionMonth(person_id=person, employer_code=region.employer_code,
                             period="2023-01", lines=lines,
                             journal=posting_journal(person, lines), source=SOURCE)
    for name in STATE_ATTRIBUTES:
        assert getattr(from_bulk, name) == getattr(made, name), name
    assert type(from_bulk.lines[0][1]) is int

    # The library's own encoding of the same event, timestamp aside, is the bulk bytes.
    [event] = made.collect_events()
    library_state = container.store.decode_state(
        container.store.app.mapper.to_stored_event(event).state)
    bulk_state = stored_state(container, month_id)
    assert list(bulk_state) == list(library_state)
    assert {**bulk_state, "timestamp": None} == {**library_state, "timestamp": None}
    assert bulk_state["timestamp"]["_type_"] == library_state["timestamp"]["_type_"]


def test_bulk_and_single_postings_store_the_same_keys_in_the_same_order(
        container: Container) -> None:
    region = seed_region(container, persons=2)
    BulkPoster(container.store, container.policy, "api").post(
        [PostingRequest(region.id_numbers[0], region.employer_code, "2023-02")])
    container.ledger.post_contribution(region.id_numbers[1], region.employer_code, "2023-02")
    bulk = stored_state(container, ContributionMonth.create_id(region.person_ids[0], "2023-02"))
    single = stored_state(container,
                          ContributionMonth.create_id(region.person_ids[1], "2023-02"))
    assert list(bulk) == list(single)
    assert bulk["lines"] == single["lines"]
    assert bulk["originator_topic"] == single["originator_topic"]
