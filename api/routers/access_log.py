"""The access log (查询留痕) for auditors: who read which person's record, when, through what and
why. Entries hold the person's internal id and masked ID number and name, never clear data; an
auditor may look a person up by ID number and still sees it masked. Reading the log is not
itself recorded (it returns no personal data)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import AccessLogReader, ContainerDep, ReadPosition
from api.errors import problem_responses
from infra.access_log import ENTRIES_LIMIT_DEFAULT, ENTRIES_LIMIT_MAX

OFFSET_MAX = 10_000_000

router = APIRouter(prefix="/access-log", tags=["access log"],
                   responses=problem_responses(401, 403, 422, 503))


class AccessEntry(BaseModel):
    position: int = Field(description="Log position of the AccessRecord event.")
    accessed_at: str = Field(description="When, China Standard Time (ISO 8601, +08:00).")
    accessed_on: str = Field(description="The CST day.")
    username: str
    roles: list[str]
    person_id: str = Field(description="Empty for a batch read (it names no one person).")
    id_number_masked: str
    name_masked: str = Field(description="Empty where the route read no name.")
    resource: str = Field(description="Method and route, e.g. GET /v1/persons/{id_number}.")
    target: str = Field(description="The case, back-payment or suspense item read, if any.")
    reason_code: str
    reason_name_zh: str
    note: str
    request_id: str
    record_id: str
    persons_read: int = Field(description="1 for one person's record; for a batch read (e.g. "
                                          "the yearly mailing of statements) how many.")
    as_known_at: int | None = Field(description=(
        "A batch read: the log position it read at; it read the record of every person "
        "registered at or before it. null for one person's record."))
    output_sha256: str | None = Field(description=(
        "A batch read: sha256 of what it produced (the mailing's manifest.csv)."))


class AccessLogPage(BaseModel):
    items: list[AccessEntry]
    limit: int
    offset: int
    next_offset: int | None
    position: int


@router.get("", response_model=AccessLogPage)
def get_access_log(
    principal: AccessLogReader, container: ContainerDep, position: ReadPosition,
    person_id: Annotated[str | None, Query(max_length=36, description="Internal person id.")
                         ] = None,
    id_number: Annotated[str | None, Query(max_length=32, description=(
        "Resident ID number: the same entries as its person id (shown masked)."))] = None,
    user: Annotated[str | None, Query(max_length=64, description="Staff username.")] = None,
    start: Annotated[date | None, Query(alias="from", description="First CST day.")] = None,
    end: Annotated[date | None, Query(alias="to", description="Last CST day.")] = None,
    limit: Annotated[int, Query(ge=1, le=ENTRIES_LIMIT_MAX)] = ENTRIES_LIMIT_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
) -> AccessLogPage:
    """Recorded reads, newest first. A person's own history (who looked at their record) is
    `?id_number=`: their reads, and the batch reads (the yearly mailing) that read their
    record."""
    rows = container.access_log.entries(person_id=person_id, id_number=id_number,
                                        username=user, start=start, end=end, limit=limit,
                                        offset=offset)
    return AccessLogPage(items=[AccessEntry.model_validate(r) for r in rows], limit=limit,
                         offset=offset, next_offset=offset + limit if len(rows) == limit
                         else None, position=position)
