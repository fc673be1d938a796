"""Arrears (欠费) per employer for a period, with the late fee (滞纳金) as of a day."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import ContainerDep, ImportReader
from api.errors import problem_responses
from infra.arrears import arrears

router = APIRouter(prefix="/arrears", tags=["reconciliation"],
                   responses=problem_responses(401, 403, 422))

ITEMS_MAX = 1000


class EmployerArrearsView(BaseModel):
    employer_code: str
    persons: int
    employer_fen: int
    individual_fen: int
    arrears_fen: int
    days_late: int
    late_fee_fen: int


class ArrearsItemView(BaseModel):
    employer_code: str
    person_id: str
    base_fen: int
    employer_fen: int
    individual_fen: int


class ArrearsView(BaseModel):
    period: str
    due_date: date
    as_of: date
    due: bool
    position: int
    arrears_fen: int
    late_fee_fen: int
    employers: list[EmployerArrearsView]
    items: list[ArrearsItemView]
    items_total: int


@router.get("", response_model=ArrearsView)
def get_arrears(
    principal: ImportReader, container: ContainerDep,
    period: Annotated[str, Query(description="YYYY-MM", examples=["2024-12"])],
    as_of: Annotated[date | None, Query(description="late fee as of this day (default today)")]
    = None,
) -> ArrearsView:
    """Months assessed (employed, base declared) but not posted after their due date."""
    report, items = arrears(container, period, as_of or date.today())
    return ArrearsView(
        **report.as_dict(), items_total=len(items),
        items=[ArrearsItemView(employer_code=i.employer_code, person_id=i.person_id,
                               base_fen=i.base_fen, employer_fen=i.employer_fen,
                               individual_fen=i.individual_fen) for i in items[:ITEMS_MAX]],
    )
