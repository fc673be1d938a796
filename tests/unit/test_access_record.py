"""AccessRecord (domain/access_record.py): a batch read is its own created event, which the
aggregate replays like the per-person one; a batch of nobody, or without an output hash, is
refused."""

from __future__ import annotations

from typing import Any

import pytest

from domain.access_record import AccessRecord

BATCH = {"region_code": "440781", "request_id": "r1", "username": "mailer",
         "roles": ["teller"], "resource": "CLI shebao statements", "target": "statements/2024",
         "reason_code": "statement_mailing", "note": "", "persons_read": 3,
         "as_known_at": 120, "output_sha256": "ab" * 32}


def replayed(record: AccessRecord) -> Any:
    found = None
    for e in record.collect_events():
        found = e.mutate(found)
    return found


def test_a_batch_read_is_one_batch_recorded_event_that_replays() -> None:
    record = AccessRecord.record_batch(**BATCH)
    events = record.collect_events()
    assert [type(e).__qualname__ for e in events] == ["AccessRecord.BatchRecorded"]
    event = events[0]
    assert {name: getattr(event, name) for name in BATCH} == BATCH
    again = None
    for e in events:
        again = e.mutate(again)
    assert again is not None
    assert (again.id, again.username, again.person_id, again.reason_code) == (
        record.id, "mailer", "", "statement_mailing")


def test_a_persons_read_is_recorded_as_before() -> None:
    record = AccessRecord(region_code="440781", request_id="r2", username="teller1",
                          roles=["teller"], resource="GET /v1/persons/{id_number}", target="",
                          reason_code="counter_service", note="", person_id="p-1",
                          id_number_masked="440781********1234", name_masked="张*")
    copy = replayed(record)
    assert (copy.username, copy.person_id) == ("teller1", "p-1")


@pytest.mark.parametrize("change", [{"persons_read": 0}, {"output_sha256": "abc"}])
def test_a_batch_of_nobody_or_without_its_output_hash_is_refused(change: dict[str, Any]
                                                                  ) -> None:
    with pytest.raises(AssertionError):
        AccessRecord.record_batch(**{**BATCH, **change})
