"""Employers (参保单位): registration and the current record, read from the aggregate."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.deps import ContainerDep, IdempotencyKey, Reader, Registrar, current_aggregate
from api.errors import problem_responses
from api.schemas import (
    CommandResponse,
    EmployerRegistered,
    EmployerRegistration,
    EmployerView,
    command_response,
)
from domain.identity import parse_credit_code

router = APIRouter(prefix="/employers", tags=["employers"],
                   responses=problem_responses(401, 403, 422))


@router.post("", status_code=201, response_model=CommandResponse[EmployerRegistered],
             responses=problem_responses(409))
def register_employer(body: EmployerRegistration, principal: Registrar,
                      container: ContainerDep, idempotency_key: IdempotencyKey = None,
                      ) -> CommandResponse[EmployerRegistered]:
    """Register an employer. Registering the same employer again with the same details is a
    no-op returning the original result; other details are 409 `employer_already_registered`."""
    done = container.ledger.register_employer(
        body.credit_code, body.name, body.employer_type, body.risk_class, body.industry,
        body.registered_on.isoformat() if body.registered_on else None,
        idempotency_key=idempotency_key,
    )
    return command_response(EmployerRegistered, done)


@router.get("/{credit_code}", response_model=EmployerView, responses=problem_responses(404),
            dependencies=[Depends(current_aggregate)])
def get_employer(credit_code: Annotated[str, Path(max_length=32)], principal: Reader,
                 container: ContainerDep) -> EmployerView:
    employer = container.ledger.employer(parse_credit_code(credit_code))
    return EmployerView(
        employer_id=str(employer.id), credit_code=employer.credit_code, name=employer.name,
        employer_type=employer.employer_type, risk_class=employer.risk_class,
        industry=employer.industry,
        registered_on=date.fromisoformat(employer.registered_on),
        work_injury_float=employer.work_injury_float,
    )
