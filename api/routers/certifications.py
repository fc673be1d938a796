"""Benefit-eligibility certification (待遇资格认证): record that a pensioner was certified (a
teller or reviewer, e.g. from a data-matching batch or the self-service channel), and list the
pensioners whose certification is overdue (their payment is suspended, 暂停)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.certification_schemas import (
    CertificationRequest,
    CertificationView,
    OverdueItemView,
    OverdueList,
)
from api.deps import ContainerDep, IdempotencyKey, Reader, allowed
from api.errors import problem_responses
from api.schemas import CommandResponse, IsoDate, command_response
from infra.certification_service import OVERDUE_LIST_MAX, certify, overdue
from infra.staff_service import Principal

router = APIRouter(tags=["pensions"], responses=problem_responses(401, 403, 422))

Certifier = Annotated[Principal, Depends(allowed("certify_pensioners"))]
IdNumberPath = Annotated[str, Path(max_length=32, description="Resident ID number.")]


@router.post("/persons/{id_number}/certifications", status_code=201,
             response_model=CommandResponse[CertificationView],
             responses=problem_responses(404, 409))
def record_certification(id_number: IdNumberPath, body: CertificationRequest,
                         principal: Certifier, container: ContainerDep,
                         idempotency_key: IdempotencyKey = None
                         ) -> CommandResponse[CertificationView]:
    """Record a certification of a pensioner on a day. The same day again records nothing
    (`already_recorded`). A certification after an overdue deadline resumes payment from the
    next month, and the next payment run pays the suspended months back. 409
    `pension_not_awarded`, `person_deceased`."""
    done = certify(container, id_number, body.method, body.source,
                   body.certified_on.isoformat(), idempotency_key=idempotency_key)
    return command_response(CertificationView, done)


@router.get("/pensions/certifications/overdue", response_model=OverdueList)
def list_overdue(principal: Reader, container: ContainerDep,
                 as_of: Annotated[IsoDate | None, Query(
                     description="The day to judge on (default today).")] = None,
                 limit: Annotated[int, Query(ge=1, le=OVERDUE_LIST_MAX)] = 100
                 ) -> OverdueList:
    """Living pensioners whose certification deadline (a year after the retirement or the last
    certification) has passed, by deadline: not paid from `suspended_from` on."""
    day = as_of or date.today()
    items, total = overdue(container, day, limit)
    return OverdueList(as_of=day.isoformat(), total=total,
                       items=[OverdueItemView.model_validate(asdict(i)) for i in items])
