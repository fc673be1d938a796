"""AccessRecord: one read of a person's record by a staff member through the API (查询留痕).

An event per read, so that the hash chain makes the access log tamper-evident like every other
fact. It holds who (username and roles), what (the route and, where the route names one, the
case, back-payment or suspense item read), whose record and why (the reason code and note) —
and no clear personal data: the person's internal id, their ID number and name masked."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

NOTE_LENGTH_MAX = 200


class AccessRecord(Aggregate):
    """Identified by a random id (the default): a read has no business key, and two reads of
    the same record are two records."""

    @event("Recorded")
    def __init__(
        self,
        region_code: str,
        request_id: str,
        username: str,
        roles: list[str],
        resource: str,  # the route template, e.g. "GET /v1/persons/{id_number}/account"
        target: str,  # the case id, back-payment id or serial number read; "" for a person
        person_id: str,  # the internal uuid of the ID number (also of a person not registered)
        id_number_masked: str,  # 440781********1234; "" where the route knows the id only
        name_masked: str,  # 张*; "" where the route does not read the name
        reason_code: str,
        note: str,
    ) -> None:
        self.username = username
        self.person_id = person_id
        self.reason_code = reason_code
