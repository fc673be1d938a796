"""Insured persons (参保人): registration, employment spells, yearly bases, and the current
record, read from the Person aggregate (always current: no read-model wait)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.access import PersonReadDep, masked
from api.deps import ContainerDep, IdempotencyKey, Reader, Registrar, current_aggregate
from api.errors import problem_responses
from api.schemas import (
    BaseDeclaration,
    BaseDeclared,
    CommandResponse,
    DeathRecord,
    DeathRecorded,
    EmploymentEnd,
    EmploymentEnded,
    EmploymentSpell,
    EmploymentStart,
    EmploymentStarted,
    PersonRegistered,
    PersonRegistration,
    PersonView,
    YearBase,
    command_response,
)
from infra.access_log import PersonRef

router = APIRouter(prefix="/persons", tags=["persons"],
                   responses=problem_responses(401, 403, 422))

IdNumberPath = Annotated[str, Path(max_length=32, description="Resident ID number.")]


@router.post("", status_code=201, response_model=CommandResponse[PersonRegistered],
             responses=problem_responses(409))
def register_person(body: PersonRegistration, principal: Registrar, container: ContainerDep,
                    idempotency_key: IdempotencyKey = None) -> CommandResponse[PersonRegistered]:
    """Register a person; sex and birth date come from the ID number."""
    done = container.ledger.register_person(
        body.id_number, body.name,
        body.registered_on.isoformat() if body.registered_on else None,
        idempotency_key=idempotency_key,
    )
    return command_response(PersonRegistered, done)


@router.get("/{id_number}", response_model=PersonView, responses=problem_responses(400, 404),
            dependencies=[Depends(current_aggregate)])
def get_person(id_number: IdNumberPath, principal: Reader, access: PersonReadDep,
               container: ContainerDep) -> PersonView:
    """The person's record. Needs `X-Access-Reason` (the read is recorded); ID number, name
    and birth date are masked for roles that do not see personal data in clear."""
    person = container.ledger.person(id_number)
    view = PersonView(
        person_id=str(person.id), id_number=person.id_number, name=person.name, sex=person.sex,
        birth_date=date.fromisoformat(person.birth_date),
        registered_on=date.fromisoformat(person.registered_on),
        employments=[EmploymentSpell.model_validate(spell) for spell in person.employments],
        bases=[YearBase(year=int(year), **base)
               for year, base in sorted(person.bases.items(), key=lambda kv: int(kv[0]))],
    )
    if not access.clear:
        view = PersonView.model_validate(masked(view.model_dump(), ("id_number",), ("name",),
                                                ("birth_date",)))
    access.record(PersonRef(str(person.id), person.id_number, person.name))
    return view


@router.post("/{id_number}/employments", status_code=201,
             response_model=CommandResponse[EmploymentStarted],
             responses=problem_responses(404, 409))
def start_employment(id_number: IdNumberPath, body: EmploymentStart, principal: Registrar,
                     container: ContainerDep, idempotency_key: IdempotencyKey = None,
                     ) -> CommandResponse[EmploymentStarted]:
    done = container.ledger.start_employment(
        id_number, body.employer_code, body.start_date.isoformat(),
        idempotency_key=idempotency_key)
    return command_response(EmploymentStarted, done)


@router.post("/{id_number}/employments/end", response_model=CommandResponse[EmploymentEnded],
             responses=problem_responses(404, 409))
def end_employment(id_number: IdNumberPath, body: EmploymentEnd, principal: Registrar,
                   container: ContainerDep, idempotency_key: IdempotencyKey = None,
                   ) -> CommandResponse[EmploymentEnded]:
    done = container.ledger.end_employment(
        id_number, body.employer_code, body.end_date.isoformat(),
        idempotency_key=idempotency_key)
    return command_response(EmploymentEnded, done)


@router.post("/{id_number}/bases", response_model=CommandResponse[BaseDeclared],
             responses=problem_responses(404, 409))
def declare_base(id_number: IdNumberPath, body: BaseDeclaration, principal: Registrar,
                 container: ContainerDep, idempotency_key: IdempotencyKey = None,
                 ) -> CommandResponse[BaseDeclared]:
    """Declare the year's monthly wage; the base is it clamped to the year's floor and cap."""
    done = container.ledger.declare_base(id_number, body.year, body.declared_wage_fen,
                                         idempotency_key=idempotency_key)
    return command_response(BaseDeclared, done)


@router.post("/{id_number}/death", status_code=201,
             response_model=CommandResponse[DeathRecorded], responses=problem_responses(404, 409))
def record_death(id_number: IdNumberPath, body: DeathRecord, principal: Registrar,
                 container: ContainerDep, idempotency_key: IdempotencyKey = None,
                 ) -> CommandResponse[DeathRecorded]:
    """死亡登记 at the counter, from the evidence named. Recorded once (the same date again is a
    no-op; another is 409 `death_already_recorded`); contributions posted and pensions paid for
    months after the month of death then raise risk alerts (GET /v1/alerts)."""
    done = container.ledger.record_death(id_number, body.date_of_death.isoformat(),
                                         body.evidence, idempotency_key=idempotency_key)
    return command_response(DeathRecorded, done)
