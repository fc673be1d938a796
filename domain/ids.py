"""Deterministic aggregate ids (uuid5 of a business key, scoped to the pooling region), so that a
repeated command addresses the same aggregate and the store's optimistic concurrency makes it
idempotent. Two regions never share an id."""

from __future__ import annotations

from functools import lru_cache
from hashlib import sha1
from uuid import NAMESPACE_URL, UUID, SafeUUID, uuid5

_VERSION_MASK = ~(0xF000 << 64) & ~(0xC000 << 48)
_VERSION_5_BITS = (5 << 76) | (0x8000 << 48)


def fast_uuid5(namespace: UUID, name: str) -> UUID:
    """`uuid.uuid5(namespace, name)`, about five times faster: the bulk path makes two per line.
    Builds the UUID without its validating constructor (a test checks equality with uuid5)."""
    digest = sha1(namespace.bytes + name.encode()).digest()
    value = (int.from_bytes(digest[:16], "big") & _VERSION_MASK) | _VERSION_5_BITS
    result = object.__new__(UUID)
    object.__setattr__(result, "int", value)
    object.__setattr__(result, "is_safe", SafeUUID.unknown)
    return result


@lru_cache(maxsize=64)
def region_namespace(region_code: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:shebao-ledger:region:{region_code}")


def person_id(region_code: str, id_number: str) -> UUID:
    return fast_uuid5(region_namespace(region_code), f"person/{id_number}")


@lru_cache(maxsize=100_000)
def employer_id(region_code: str, credit_code: str) -> UUID:
    return uuid5(region_namespace(region_code), f"employer/{credit_code}")


def contribution_month_id(person: UUID, period: str) -> UUID:
    return fast_uuid5(person, f"contribution/{period}")


def interest_year_id(person: UUID, year: int) -> UUID:
    return uuid5(person, f"interest/{year}")


def receipt_id(region_code: str, idempotency_key: str) -> UUID:
    return uuid5(region_namespace(region_code), f"receipt/{idempotency_key}")


def staff_user_id(region_code: str, username: str) -> UUID:
    return uuid5(region_namespace(region_code), f"staff/{username}")


def token_id(region_code: str, token_sha256: str) -> UUID:
    return uuid5(region_namespace(region_code), f"token/{token_sha256}")
