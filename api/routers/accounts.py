"""A person's personal account and contribution history, from the read models. Pass the
`position` a command returned as `min_position` to read your own writes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.access import PersonReadDep
from api.deps import ContainerDep, Reader, ReadPosition
from api.errors import problem_responses
from api.schemas import (
    PAGE_LIMIT_DEFAULT,
    PAGE_LIMIT_MAX,
    AccountEntry,
    AccountView,
    HistoryItem,
    HistoryPageView,
    IsoDate,
)
from domain.policy import PENSION
from infra.access_log import PersonRef
from infra.queries import recorded_time

OFFSET_MAX = 10_000_000

router = APIRouter(prefix="/persons/{id_number}", tags=["accounts"],
                   responses=problem_responses(400, 401, 403, 404, 422, 503))

IdNumberPath = Annotated[str, Path(max_length=32, description="Resident ID number.")]
Limit = Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)]
Offset = Annotated[int, Query(ge=0, le=OFFSET_MAX)]
KnownAt = Annotated[datetime | None, Query(description=(
    "Bitemporal: count only what was recorded by this time (ISO 8601; without an offset China "
    "Standard Time). With `as_of`: the balance as of that date as it was known then; a "
    "back-payment recorded later changes the balance known now, not this one."))]


def next_offset(offset: int, limit: int, page_rows: int) -> int | None:
    return offset + limit if page_rows == limit else None


@router.get("/account", response_model=AccountView)
def get_account(
    id_number: IdNumberPath, principal: Reader, access: PersonReadDep, container: ContainerDep,
    position: ReadPosition, as_of: Annotated[IsoDate | None, Query(
        description="Balance as of this effective date; default: everything.")] = None,
    insurance: Annotated[str, Query(max_length=8, description="Insurance code.")] = PENSION,
    known_at: KnownAt = None,
    limit: Limit = PAGE_LIMIT_DEFAULT, offset: Offset = 0,
) -> AccountView:
    """Balance of the personal account (as of a date, as known at a time) and its entries,
    oldest first."""
    person = container.ledger.person(id_number)
    person_id = str(person.id)
    container.policy.insurance(insurance, "insurance")
    day = as_of.isoformat() if as_of else None
    known = recorded_time(known_at) if known_at else None
    balance = container.queries.account_balance(person_id, day, insurance, known_at=known)
    rows = container.queries.account_entries(person_id, insurance, limit, offset, as_of=day,
                                             known_at=known)
    view = AccountView(
        **balance, entries=[AccountEntry.model_validate(e) for e in rows], limit=limit,
        offset=offset, position=position, next_offset=next_offset(offset, limit, len(rows)),
    )
    access.record(PersonRef(person_id, person.id_number, person.name))
    return view


@router.get("/contributions", response_model=HistoryPageView)
def get_contributions(id_number: IdNumberPath, principal: Reader, access: PersonReadDep,
                      container: ContainerDep, position: ReadPosition,
                      limit: Limit = PAGE_LIMIT_DEFAULT, offset: Offset = 0,
                      known_at: KnownAt = None) -> HistoryPageView:
    """Postings and reversals of the person's months, by period (as known at a time)."""
    person = container.ledger.person(id_number)
    person_id = str(person.id)
    rows = container.queries.history(person_id, limit, offset,
                                     known_at=recorded_time(known_at) if known_at else None)
    view = HistoryPageView(
        person_id=person_id, items=[HistoryItem.model_validate(r) for r in rows], limit=limit,
        offset=offset, next_offset=next_offset(offset, limit, len(rows)), position=position,
    )
    access.record(PersonRef(person_id, person.id_number, person.name))
    return view
