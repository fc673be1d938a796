"""CommandReceipt: remembers the result of a command sent with an Idempotency-Key, saved in the
same transaction as the command's events, so that a replay returns the original result."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import ids


class CommandReceipt(Aggregate):
    @staticmethod
    def create_id(region_code: str, idempotency_key: str) -> UUID:
        return ids.receipt_id(region_code, idempotency_key)

    @event("Recorded")
    def __init__(
        self,
        region_code: str,
        idempotency_key: str,
        command: str,
        request_sha256: str,
        result: dict[str, Any],
    ) -> None:
        self.command = command
        self.request_sha256 = request_sha256
        self.result = result
