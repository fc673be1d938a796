"""Suspense items (暂收/挂账): list and read them, and clear one by a recorded decision —
assignment to a person and period (posted in the same transaction) or refund. Decisions are made
by reconcilers; `decided_by` is the acting user."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from api.access import PersonReadDep, masked, person_refs
from api.deps import (
    ContainerDep,
    IdempotencyKey,
    ReadPosition,
    SuspenseDecider,
    SuspenseReader,
)
from api.errors import ApiProblem, problem_responses
from api.schemas import (
    PAGE_LIMIT_DEFAULT,
    PAGE_LIMIT_MAX,
    CommandResponse,
    SuspenseAssignment,
    SuspenseDecided,
    SuspenseDetail,
    SuspenseItemView,
    SuspensePage,
    SuspenseRefund,
    command_response,
)
from infra.suspense_service import assign_suspense, refund_suspense

OFFSET_MAX = 10_000_000

router = APIRouter(prefix="/suspense", tags=["suspense"],
                   responses=problem_responses(401, 403, 422))

Serial = Annotated[str, Path(max_length=64, description="Tax serial number of the held line.")]


def _masked(row: dict[str, Any]) -> dict[str, Any]:
    return masked(row, ("id_number", "assigned_id_number"))


@router.get("", response_model=SuspensePage, responses=problem_responses(503))
def list_suspense(
    principal: SuspenseReader, container: ContainerDep, position: ReadPosition,
    status: Annotated[Literal["held", "assigned", "refunded"] | None, Query(
        description="Only items of this status; default: all.")] = None,
    batch: Annotated[str | None, Query(max_length=64, description="Only items held by this "
                                                                  "import (batch id).")] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)] = PAGE_LIMIT_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
) -> SuspensePage:
    """Suspense items in the order they were held, ID numbers masked."""
    rows = container.queries.suspense_items(status, batch, limit, offset)
    return SuspensePage(
        items=[SuspenseItemView.model_validate(_masked(row)) for row in rows], limit=limit,
        offset=offset, next_offset=offset + limit if len(rows) == limit else None,
        position=position)


@router.get("/{serial_no}", response_model=SuspenseDetail,
            responses=problem_responses(400, 404, 503))
def get_suspense(serial_no: Serial, principal: SuspenseReader, access: PersonReadDep,
                 container: ContainerDep, position: ReadPosition) -> SuspenseDetail:
    """One suspense item and its decision if made. Needs `X-Access-Reason`: the read is
    recorded against the line's person (and the person it was assigned to); ID numbers are in
    clear only for roles that see personal data in clear."""
    row = container.queries.suspense_item(serial_no)
    if row is None:
        raise ApiProblem(404, "suspense_not_found",
                         f"no suspense item with serial number {serial_no} (as of position "
                         f"{position})", field="serial_no")
    view = SuspenseDetail.model_validate({**(row if access.clear else _masked(row)),
                                          "position": position})
    access.record(*person_refs(container.settings.region_code,
                               (row["id_number"], row["assigned_id_number"])), target=serial_no)
    return view


@router.post("/{serial_no}/assignment", status_code=201,
             response_model=CommandResponse[SuspenseDecided],
             responses=problem_responses(404, 409))
def assign(serial_no: Serial, body: SuspenseAssignment, principal: SuspenseDecider,
           container: ContainerDep, idempotency_key: IdempotencyKey = None,
           ) -> CommandResponse[SuspenseDecided]:
    """Assign the item to a person and period: its money is posted there as collected (a new
    month, or lines added to a posted month without that insurance), journal debiting
    `suspense`. 409 `suspense_already_decided`, `insurance_already_posted`, `month_reversed`;
    the same assignment again returns the recorded one."""
    done = assign_suspense(container, serial_no, body.id_number, body.period, body.reason,
                           principal.username, body.employer_code, idempotency_key)
    return command_response(SuspenseDecided, done)


@router.post("/{serial_no}/refund", status_code=201,
             response_model=CommandResponse[SuspenseDecided],
             responses=problem_responses(404, 409))
def refund(serial_no: Serial, body: SuspenseRefund, principal: SuspenseDecider,
           container: ContainerDep, idempotency_key: IdempotencyKey = None,
           ) -> CommandResponse[SuspenseDecided]:
    """Refund the item through the tax bureau: journal suspense → bank:payout."""
    done = refund_suspense(container, serial_no, body.reason, body.reference,
                           principal.username, idempotency_key)
    return command_response(SuspenseDecided, done)
