"""Replaying a command changes nothing: business keys make a repeat a no-op returning the same
result, an Idempotency-Key returns the recorded result, and a bulk file sent twice posts once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from domain.errors import Conflict
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.ledger_service import CommandResult, LedgerService
from tests.helpers import make_credit_code, make_id_number, seed_region

PERSON = make_id_number(101)
EMPLOYER = make_credit_code(101)

Command = Callable[[LedgerService, str | None], CommandResult]  # (service, Idempotency-Key)

# Each command is replayed after the ones before it have run once (registration first).
COMMANDS: list[tuple[str, Command]] = [
    ("register_employer", lambda s, key: s.register_employer(
        EMPLOYER, "示例商贸有限公司", "enterprise", 2, registered_on="2020-01-01",
        idempotency_key=key)),
    ("register_person", lambda s, key: s.register_person(
        PERSON, "李四", registered_on="2020-01-01", idempotency_key=key)),
    ("start_employment", lambda s, key: s.start_employment(
        PERSON, EMPLOYER, "2023-01-01", idempotency_key=key)),
    ("declare_base", lambda s, key: s.declare_base(PERSON, 2023, 900_000, idempotency_key=key)),
    ("post_contribution", lambda s, key: s.post_contribution(
        PERSON, EMPLOYER, "2023-01", idempotency_key=key)),
    ("reverse_contribution", lambda s, key: s.reverse_contribution(
        PERSON, "2023-01", "wrong base", idempotency_key=key)),
]


def test_replaying_any_command_is_a_no_op_with_the_same_result(container: Container) -> None:
    store, ledger = container.store, container.ledger
    for name, command in COMMANDS:
        first = command(ledger, None)
        head = store.max_position()
        assert first.position == head, name
        again = command(ledger, None)
        assert again.result == first.result, name
        assert store.max_position() == head, f"{name} wrote on replay"
        assert not again.replayed


def test_a_command_replayed_with_its_idempotency_key_returns_the_recorded_result(
        container: Container) -> None:
    store, ledger = container.store, container.ledger
    for name, command in COMMANDS:
        first = command(ledger, f"key-{name}")
        assert not first.replayed, name
        head = store.max_position()
        again = command(ledger, f"key-{name}")
        assert again.replayed, name
        assert again.result == first.result, name
        assert store.max_position() == head, f"{name} wrote on replay"


def test_a_reused_idempotency_key_with_another_request_is_refused(container: Container) -> None:
    store, ledger = container.store, container.ledger
    ledger.register_person(PERSON, "李四", registered_on="2020-01-01", idempotency_key="k-1")
    head = store.max_position()
    with pytest.raises(Conflict) as info:
        ledger.register_person(make_id_number(102), "王五", registered_on="2020-01-01",
                               idempotency_key="k-1")
    assert (info.value.code, info.value.field) == ("idempotency_key_reused", "Idempotency-Key")
    with pytest.raises(Conflict) as info:  # another command under the same key
        ledger.register_employer(EMPLOYER, "示例商贸有限公司", "enterprise", 2,
                                 registered_on="2020-01-01", idempotency_key="k-1")
    assert info.value.code == "idempotency_key_reused"
    assert store.max_position() == head


def test_a_registration_replayed_on_another_day_is_still_the_same_request(
        container: Container) -> None:
    ledger = container.ledger
    first = ledger.register_person(PERSON, "李四", idempotency_key="k-day",
                                   today=date(2024, 1, 1))
    again = ledger.register_person(PERSON, "李四", idempotency_key="k-day",
                                   today=date(2024, 1, 2))
    assert again.replayed and again.result == first.result


def test_a_bulk_batch_posted_twice_is_all_duplicate_the_second_time(container: Container) -> None:
    region = seed_region(container, persons=4)
    requests = [PostingRequest(n, region.employer_code, f"2023-{m:02d}")
                for n in region.id_numbers for m in (1, 2, 3)]
    poster = BulkPoster(container.store, container.policy, "test")
    first = poster.post(requests)
    assert first.summary() == {"posted": 12, "duplicate": 0, "rejected": 0}
    head = container.store.max_position()
    assert first.position == head
    again = BulkPoster(container.store, container.policy, "test").post(requests)
    assert again.summary() == {"posted": 0, "duplicate": 12, "rejected": 0}
    assert [o.total_fen for o in again.outcomes] == [o.total_fen for o in first.outcomes]
    assert container.store.max_position() == head


def test_the_same_month_twice_in_one_batch_is_posted_once(container: Container) -> None:
    region = seed_region(container, persons=1)
    number, code = region.id_numbers[0], region.employer_code
    result = BulkPoster(container.store, container.policy, "test").post([
        PostingRequest(number, code, "2023-01"),
        PostingRequest(number, code, "2023-01"),
        PostingRequest(number, code, "2023-01", base_fen=900_000),
    ])
    assert [o.status for o in result.outcomes] == ["posted", "duplicate", "rejected"]
    assert result.outcomes[2].code == "month_twice_in_batch"
