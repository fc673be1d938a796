"""Deterministic aggregate ids (uuid5 of a business key, scoped to the pooling region), so that a
repeated command addresses the same aggregate and the store's optimistic concurrency makes it
idempotent. Two regions never share an id."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5


def region_namespace(region_code: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:shebao-ledger:region:{region_code}")


def person_id(region_code: str, id_number: str) -> UUID:
    return uuid5(region_namespace(region_code), f"person/{id_number}")


def employer_id(region_code: str, credit_code: str) -> UUID:
    return uuid5(region_namespace(region_code), f"employer/{credit_code}")


def contribution_month_id(person: UUID, period: str) -> UUID:
    return uuid5(person, f"contribution/{period}")


def interest_year_id(person: UUID, year: int) -> UUID:
    return uuid5(person, f"interest/{year}")


def receipt_id(region_code: str, idempotency_key: str) -> UUID:
    return uuid5(region_namespace(region_code), f"receipt/{idempotency_key}")


def staff_user_id(region_code: str, username: str) -> UUID:
    return uuid5(region_namespace(region_code), f"staff/{username}")


def token_id(region_code: str, token_sha256: str) -> UUID:
    return uuid5(region_namespace(region_code), f"token/{token_sha256}")
