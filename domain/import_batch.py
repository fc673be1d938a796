"""ImportBatch: one external file taken in (a tax collection file), keyed by the sha256 of its
bytes, so that importing the same file again is recognised and changes nothing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import region_namespace

COLLECTION_FILE = "tax_collection"


class ImportBatch(Aggregate):
    @staticmethod
    def create_id(region_code: str, sha256: str) -> UUID:
        from domain.ids import fast_uuid5

        return fast_uuid5(region_namespace(region_code), f"import/{sha256}")

    @event("Started")
    def __init__(self, region_code: str, kind: str, file_name: str, sha256: str,
                 size_bytes: int, started_by: str) -> None:
        self.kind = kind
        self.file_name = file_name
        self.sha256 = sha256
        self.summary: dict[str, Any] | None = None

    @property
    def completed(self) -> bool:
        return self.summary is not None

    @event("Completed")
    def complete(self, summary: dict[str, Any], rejects_sha256: str | None) -> None:
        self.summary = summary
