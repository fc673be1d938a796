"""Bearer tokens found valid are remembered for PRINCIPAL_TTL_SECONDS (infra/staff_service.py):
a user deactivated in this process is refused at once; deactivated by another process (another
StaffService on the same store), their token works here until the entry expires, not after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.errors import NotFound, ValidationFailed
from domain.staff import StaffUser
from infra.settings import Settings
from infra.staff_service import PRINCIPAL_TTL_SECONDS, Principal, StaffService
from infra.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    found = Store(settings)
    try:
        yield found
    finally:
        found.close()


def test_a_valid_token_is_remembered_until_its_entry_expires(store: Store) -> None:
    clock = Clock()
    server = StaffService(store, clock=clock)
    other_process = StaffService(store)
    _user, token = other_process.add_user("teller1", ["teller"])
    assert server.remembered(token) is None
    assert server.authenticate(token) == Principal("teller1", ("teller",))
    assert server.remembered(token) == Principal("teller1", ("teller",))

    other_process.deactivate("teller1", "left the office")
    assert other_process.authenticate(token) is None  # read again: deactivated
    clock.now += PRINCIPAL_TTL_SECONDS - 1
    assert server.authenticate(token) == Principal("teller1", ("teller",))  # remembered
    clock.now += 1
    assert server.remembered(token) is None
    assert server.authenticate(token) is None  # expired: read again, deactivated


def test_deactivating_in_this_process_refuses_the_users_tokens_at_once(store: Store) -> None:
    staff = StaffService(store, clock=Clock())
    _user, first = staff.add_user("teller2", ["teller"])
    _user, second = staff.add_user("teller2", ["teller"])
    other = staff.add_user("teller3", ["teller"])[1]
    assert staff.authenticate(first) and staff.authenticate(second) and staff.authenticate(other)

    staff.deactivate("teller2", "moved to another office")
    assert staff.authenticate(first) is None
    assert staff.authenticate(second) is None
    assert staff.authenticate(other) == Principal("teller3", ("teller",))
    user: StaffUser = store.app.repository.get(StaffUser.create_id(store.settings.region_code,
                                                                   "teller2"))
    assert not user.active
    staff.deactivate("teller2", "again")  # already deactivated: nothing more is saved
    assert store.app.repository.get(user.id).version == user.version


def test_unknown_tokens_are_not_remembered(store: Store) -> None:
    """A token refused once works as soon as another process issues it: the refusal was not
    kept (and guessing tokens fills no memory)."""
    server = StaffService(store, clock=Clock())
    other_process = StaffService(store)
    _user, token = other_process.add_user("teller4", ["teller"])
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert server.authenticate(forged) is None
    assert server.authenticate("not-a-token") is None
    assert server.remembered(forged) is None
    assert server.authenticate(token) == Principal("teller4", ("teller",))


def test_deactivate_refuses_an_unknown_user_or_a_missing_reason(store: Store) -> None:
    staff = StaffService(store)
    with pytest.raises(NotFound):
        staff.deactivate("nobody", "typo")
    staff.add_user("teller5", ["teller"])
    with pytest.raises(ValidationFailed):
        staff.deactivate("teller5", "  ")
    assert staff.principal("teller5") == Principal("teller5", ("teller",))
