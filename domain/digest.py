"""A published digest of the hash chain: (region, position, head hash, time), signed with the
bureau's Ed25519 key. Kept in the log and exported for auditors to keep outside the system: a
digest they hold proves what the log was at its position, whatever happens to the database."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, event


def digest_message(region_code: str, position: int, head_hash: str, published_at: str) -> bytes:
    """The bytes that are signed: fixed field order, no whitespace."""
    return f"shebao-digest|{region_code}|{position}|{head_hash}|{published_at}".encode()


class Digest(Aggregate):
    @event("Published")
    def __init__(self, region_code: str, position: int, head_hash: str, published_at: str,
                 public_key: str, signature: str) -> None:
        self.region_code = region_code
        self.position = position
        self.head_hash = head_hash
        self.published_at = published_at
        self.public_key = public_key
        self.signature = signature

    def as_dict(self) -> dict[str, Any]:
        return {"region_code": self.region_code, "position": self.position,
                "head_hash": self.head_hash, "published_at": self.published_at,
                "public_key": self.public_key, "signature": self.signature}
