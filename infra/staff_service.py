"""Staff users and bearer tokens. A token is shown once when issued and stored only as its
sha256 (tokens are 256-bit random, so an unsalted hash is safe to store).

Authenticating a token reads two aggregates (its index, then the user): every API request does
it, so a token found valid is remembered in memory for `PRINCIPAL_TTL_SECONDS` (keyed by its
sha256, never the token). A user deactivated through this process's `deactivate` is forgotten at
once; deactivated by another process (the command line beside a running server) their tokens
keep working here until the entry expires. Unknown tokens are not remembered: a token issued a
moment ago by another process works at once, and guessing fills no memory."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from eventsourcing.application import AggregateNotFoundError

from domain.errors import Conflict, NotFound, ValidationFailed
from domain.staff import StaffUser, TokenIndex, check_role
from infra.store import Store

TOKEN_PREFIX = "sbk_"
# How long a deactivated user's token may still work in a process that did not deactivate them:
# short against a staff member who has just been removed, long enough that a busy client's
# requests (several a second) read the two aggregates once per half minute, not each time.
PRINCIPAL_TTL_SECONDS = 30.0
PRINCIPALS_KEPT_MAX = 10_000  # distinct tokens remembered; past it, all are read again
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")


@dataclass(frozen=True)
class Principal:
    username: str
    roles: tuple[str, ...]


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffService:
    def __init__(self, store: Store, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.region = store.settings.region_code
        self._clock = clock
        self._principals: dict[str, tuple[float, Principal]] = {}  # sha256 → (expiry, who)
        self._principals_lock = threading.Lock()
        # Counts deactivations: a read that began before one is not remembered (it may have
        # found the user still active just before the deactivation was saved).
        self._deactivations = 0

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

    def deactivate(self, username: str, reason: str) -> None:
        """Deactivate the user: none of their tokens works any more (in another process within
        `PRINCIPAL_TTL_SECONDS`)."""
        if not reason.strip():
            raise ValidationFailed("reason_missing", "say why the user is deactivated",
                                   field="reason")
        try:
            user: StaffUser = self.store.app.repository.get(
                StaffUser.create_id(self.region, username))
        except AggregateNotFoundError:
            raise NotFound("user_not_found", f"no staff user {username}",
                           field="username") from None
        if user.active:
            user.deactivate(reason.strip())
            self.store.app.save(user)
        with self._principals_lock:
            self._deactivations += 1
            for digest in user.token_hashes:
                self._principals.pop(digest, None)

    def remembered(self, token: str) -> Principal | None:
        """The principal of a token found valid less than `PRINCIPAL_TTL_SECONDS` ago, else
        None (then `authenticate` reads it). No I/O: callable on the event loop."""
        found = self._principals.get(token_sha256(token))
        if found is None or found[0] <= self._clock():
            return None
        return found[1]

    def authenticate(self, token: str) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        remembered = self.remembered(token)
        if remembered is not None:
            return remembered
        digest = token_sha256(token)
        deactivations = self._deactivations
        repository = self.store.app.repository
        try:
            index: TokenIndex = repository.get(TokenIndex.create_id(self.region, digest))
            user: StaffUser = repository.get(StaffUser.create_id(self.region, index.username))
        except AggregateNotFoundError:
            return None
        if not user.active:
            return None
        principal = Principal(user.username, tuple(user.roles))
        with self._principals_lock:
            if deactivations != self._deactivations:
                return principal  # valid when read; not remembered (see __init__)
            if len(self._principals) >= PRINCIPALS_KEPT_MAX:
                self._principals.clear()
            self._principals[digest] = (self._clock() + PRINCIPAL_TTL_SECONDS, principal)
        return principal
