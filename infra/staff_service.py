"""Staff users and bearer tokens. A token is shown once when issued and stored only as its
sha256 (tokens are 256-bit random, so an unsalted hash is safe to store)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from eventsourcing.application import AggregateNotFoundError

from domain.errors import Conflict, ValidationFailed
from domain.staff import StaffUser, TokenIndex, check_role
from infra.store import Store

TOKEN_PREFIX = "sbk_"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")


@dataclass(frozen=True)
class Principal:
    username: str
    roles: tuple[str, ...]


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffService:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.region = store.settings.region_code

    def add_user(self, username: str, roles: list[str]) -> tuple[StaffUser, str]:
        """Create the user if new (or re-use them with the same roles) and issue a new token."""
        if not _USERNAME.match(username):
            raise ValidationFailed(
                "username_malformed",
                "username: 2-64 characters, lower-case letters, digits, _ . -",
                field="username",
            )
        if not roles:
            raise ValidationFailed("role_missing", "give at least one role", field="role")
        for role in roles:
            check_role(role)
        repository = self.store.app.repository
        try:
            user: StaffUser = repository.get(StaffUser.create_id(self.region, username))
            if sorted(user.roles) != sorted(roles):
                raise Conflict(
                    "user_exists_other_roles",
                    f"user {username} exists with roles {', '.join(user.roles)}",
                    field="username",
                )
        except AggregateNotFoundError:
            user = StaffUser(region_code=self.region, username=username, roles=sorted(roles))
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = token_sha256(token)
        user.issue_token(digest)
        index = TokenIndex(region_code=self.region, token_sha256=digest, username=username)
        self.store.app.save(user, index)
        return user, token

    def principal(self, username: str) -> Principal:
        """A registered, active user by name (the command line acts as them)."""
        from domain.errors import NotFound

        try:
            user: StaffUser = self.store.app.repository.get(
                StaffUser.create_id(self.region, username))
        except AggregateNotFoundError:
            raise NotFound("user_not_found", f"no staff user {username}; add them with "
                           "shebao users add", field="username") from None
        if not user.active:
            raise NotFound("user_not_found", f"user {username} is deactivated",
                           field="username")
        return Principal(user.username, tuple(user.roles))

    def authenticate(self, token: str) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        repository = self.store.app.repository
        try:
            index: TokenIndex = repository.get(TokenIndex.create_id(self.region,
                                                                    token_sha256(token)))
            user: StaffUser = repository.get(StaffUser.create_id(self.region, index.username))
        except AggregateNotFoundError:
            return None
        if not user.active:
            return None
        return Principal(user.username, tuple(user.roles))
