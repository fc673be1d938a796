"""Pension payments (养老金发放): the monthly payment run, like yearly interest crediting an
admin's batch (idempotent by nature: an entitlement paid for the month is skipped, so
Idempotency-Key is not needed), and the payments of one person, a read of their record
(X-Access-Reason, recorded in the access log).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.access import PersonReadDep
from api.deps import ContainerDep, Reader, ReadPosition, allowed
from api.errors import problem_responses
from api.pension_schemas import (
    PaymentRunRequest,
    PaymentRunView,
    PensionPaymentItem,
    PensionPaymentsPage,
)
from api.schemas import PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, CommandResponse
from infra.access_log import PersonRef
from infra.pension_payments import pay_pensions, person_payments
from infra.staff_service import Principal

router = APIRouter(tags=["pensions"], responses=problem_responses(401, 403, 422))

PensionPayer = Annotated[Principal, Depends(allowed("pay_pensions"))]
IdNumberPath = Annotated[str, Path(max_length=32, description="Resident ID number.")]
OFFSET_MAX = 10_000_000


@router.post("/pensions/payment-runs", response_model=CommandResponse[PaymentRunView])
def run_payments(body: PaymentRunRequest, principal: PensionPayer,
                 container: ContainerDep) -> CommandResponse[PaymentRunView]:
    """Pay every pension due for the month once: each entitlement whose first payment month
    has come, except for months after the month of a recorded death. The account part is
    drawn from the personal account while it lasts, then paid by the pooled fund. A second run
    for the month pays nobody (`paid` 0, `already_paid` all)."""
    run = pay_pensions(container, body.period, actor=principal.username)
    return CommandResponse[PaymentRunView](
        result=PaymentRunView.model_validate(run.as_dict()), position=run.position,
        replayed=False)


@router.get("/persons/{id_number}/pension-payments", response_model=PensionPaymentsPage,
            responses=problem_responses(400, 404, 503))
def get_person_payments(
    id_number: IdNumberPath, principal: Reader, access: PersonReadDep, container: ContainerDep,
    position: ReadPosition,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)] = PAGE_LIMIT_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
) -> PensionPaymentsPage:
    """The person's pension payments, by the month paid for (享受待遇). Needs
    `X-Access-Reason`; the read is recorded."""
    person = container.ledger.person(id_number)
    person_id = str(person.id)
    found = person_payments(container, person_id, limit, offset)
    page = PensionPaymentsPage(
        person_id=person_id, total_fen=found.total_fen, months=found.months,
        items=[PensionPaymentItem.model_validate(item) for item in found.items], limit=limit,
        offset=offset, next_offset=offset + limit if len(found.items) == limit else None,
        position=position)
    access.record(PersonRef(person_id, person.id_number, person.name))
    return page
