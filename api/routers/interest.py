"""Yearly interest crediting of personal pension accounts (admin only). Idempotent by nature —
a person whose year is credited is skipped — so Idempotency-Key is not needed and is ignored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import ContainerDep, InterestCreditor
from api.errors import problem_responses
from api.schemas import CommandResponse, InterestRun
from infra.interest_service import credit_interest

router = APIRouter(prefix="/interest", tags=["interest"],
                   responses=problem_responses(401, 403, 422))


@router.post("/{year}", response_model=CommandResponse[InterestRun])
def credit_year(year: Annotated[int, Path(description="Calendar year to credit.")],
                principal: InterestCreditor,
                container: ContainerDep) -> CommandResponse[InterestRun]:
    """Credit the year's interest to every personal pension account with a balance or credits
    in the year, at the published notional rate (记账利率)."""
    run = credit_interest(container.store, container.policy, container.runner,
                          container.queries, year)
    return CommandResponse[InterestRun](
        result=InterestRun(year=run.year, rate=run.rate, credited=run.credited,
                           skipped=run.skipped, moved_away=run.moved_away,
                           interest_fen=run.interest_fen,
                           position=run.position),
        position=run.position, replayed=False,
    )
