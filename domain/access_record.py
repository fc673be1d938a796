"""AccessRecord: one read of a person's record by a staff member through the API (查询留痕), or
one batch read of many persons' records (the yearly mailing of statements).

An event per read, so that the hash chain makes the access log tamper-evident like every other
fact. It holds who (username and roles), what (the route and, where the route names one, the
case, back-payment or suspense item read), whose record and why (the reason code and note) —
and no clear personal data: the person's internal id, their ID number and name masked.

A batch that reads every registered person's record records one `BatchRecorded` event, not one
per person (300,000 a year): whose records — every person registered at or before the log
position it read at (`as_known_at`) —, how many, and the sha256 of what it produced (the
mailing's manifest), so that the output can be tied to the record."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

NOTE_LENGTH_MAX = 200


class AccessRecord(Aggregate):
    """Identified by a random id (the default): a read has no business key, and two reads of
    the same record are two records."""

    class BatchRecorded(Aggregate.Created):
        """Many persons' records read at once, as known at one log position."""

        region_code: str
        request_id: str  # the batch run's id
        username: str
        roles: list[str]
        resource: str  # what read them, e.g. "CLI shebao statements"
        target: str  # what was produced, e.g. "statements/2024"
        reason_code: str
        note: str
        persons_read: int  # every person registered at or before `as_known_at`
        as_known_at: int  # the log position the records were read at
        output_sha256: str  # of what the batch produced (the manifest), hex

    @event("Recorded")
    def __init__(
        self,
        region_code: str,
        request_id: str,
        username: str,
        roles: list[str],
        resource: str,  # the route template, e.g. "GET /v1/persons/{id_number}/account"
        target: str,  # the case id, back-payment id or serial number read; "" for a person
        reason_code: str,
        note: str,
        # Whose record: empty for a batch (BatchRecorded names none; it shares this method).
        person_id: str = "",  # the internal uuid of the ID number (also of a person not registered)
        id_number_masked: str = "",  # 440781********1234; "" where the route knows the id only
        name_masked: str = "",  # 张*; "" where the route does not read the name
    ) -> None:
        self.username = username
        self.person_id = person_id
        self.reason_code = reason_code

    @classmethod
    def record_batch(cls, region_code: str, request_id: str, username: str, roles: list[str],
                     resource: str, target: str, reason_code: str, note: str,
                     persons_read: int, as_known_at: int, output_sha256: str
                     ) -> AccessRecord:
        assert persons_read > 0, "a read of nobody's record is not recorded"
        assert len(output_sha256) == 64, output_sha256
        return cls._create(
            cls.BatchRecorded, region_code=region_code, request_id=request_id,
            username=username, roles=roles, resource=resource, target=target,
            reason_code=reason_code, note=note, persons_read=persons_read,
            as_known_at=as_known_at, output_sha256=output_sha256)
