"""Pension transfers between pooling regions (跨统筹区转移接续): the bureau's queue — transfers
in waiting for the old region's funds, the overdue ones, those posted and those remitted out —
and one person's transfers, a read of their record (X-Access-Reason, recorded in the access
log). The commands are counter cases (POST /v1/cases with transfer_in, transfer_in_posting,
transfer_out: infra/case_effects.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from api.access import PersonReadDep, PolicyDep, masked, sees_clear
from api.deps import ContainerDep, Reader, ReadPosition, allowed
from api.errors import problem_responses
from api.transfer_schemas import (
    PersonTransfers,
    TransferItem,
    TransferQueue,
    TransferQueueItem,
)
from infra.access_log import PersonRef
from infra.case_service import business_today
from infra.staff_service import Principal
from infra.transfer_queries import TRANSFER_LIST_MAX, person_transfer_list, transfer_list

router = APIRouter(tags=["transfers"], responses=problem_responses(401, 403, 422))

# The queue is counter business, read by the roles that read the case queues.
QueueReader = Annotated[Principal, Depends(allowed("read_cases"))]
IdNumberPath = Annotated[str, Path(max_length=32, description="Resident ID number.")]


@router.get("/transfers", response_model=TransferQueue, responses=problem_responses(503))
def list_transfers(
    principal: QueueReader, container: ContainerDep, position: ReadPosition, policy: PolicyDep,
    direction: Annotated[Literal["in", "out"] | None, Query(
        description="in: 转入; out: 转出; both when absent.")] = None,
    status: Annotated[Literal["accepted", "posted", "remitted", "cancelled"] | None, Query(
        description="accepted: waiting for the old region's funds (已受理待到账); posted "
                    "(已记账); remitted (已转出); cancelled (转入已终止).")] = None,
    overdue: Annotated[bool, Query(
        description="true: only transfers in still waiting after their due day, judged on "
                    "today at the bureau (逾期未到账).")] = False,
    limit: Annotated[int, Query(ge=1, le=TRANSFER_LIST_MAX)] = TRANSFER_LIST_MAX,
) -> TransferQueue:
    """The bureau's transfers, newest first, each with its `overdue` flag; the persons' ID
    numbers and names masked for roles that do not see personal data in clear (as the case
    queues)."""
    today = business_today()
    rows = transfer_list(container, today, direction=direction, status=status,
                         overdue=overdue, limit=limit)
    if not sees_clear(policy, principal):
        rows = [masked(r, ("id_number",), ("name",)) for r in rows]
    return TransferQueue(today=today.isoformat(), limit=limit, position=position,
                         items=[TransferQueueItem.model_validate(r) for r in rows])


@router.get("/persons/{id_number}/transfers", response_model=PersonTransfers,
            responses=problem_responses(400, 404, 503))
def get_person_transfers(id_number: IdNumberPath, principal: Reader, access: PersonReadDep,
                         container: ContainerDep, position: ReadPosition) -> PersonTransfers:
    """The person's transfers in and out, newest first, with the months and money each moved.
    Needs `X-Access-Reason`; the read is recorded."""
    person = container.ledger.person(id_number)
    person_id = str(person.id)
    today = business_today()
    page = PersonTransfers(
        person_id=person_id, today=today.isoformat(), position=position,
        items=[TransferItem.model_validate(r)
               for r in person_transfer_list(container, person_id, today)])
    access.record(PersonRef(person_id, person.id_number, person.name))
    return page
