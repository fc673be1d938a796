"""The yearly pension adjustment run (养老金调整), an admin's batch like the payment run:
idempotent by nature (an entitlement adjusted for the year is skipped), so Idempotency-Key is
not needed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import ContainerDep, allowed
from api.errors import problem_responses
from api.pension_adjustment_schemas import AdjustmentRunRequest, AdjustmentRunView
from api.schemas import CommandResponse
from infra.pension_adjustments import adjust_pensions
from infra.staff_service import Principal

router = APIRouter(tags=["pensions"], responses=problem_responses(401, 403, 422))

PensionAdjuster = Annotated[Principal, Depends(allowed("adjust_pensions"))]


@router.post("/pensions/adjustments", response_model=CommandResponse[AdjustmentRunView])
def run_adjustments(body: AdjustmentRunRequest, principal: PensionAdjuster,
                    container: ContainerDep) -> CommandResponse[AdjustmentRunView]:
    """Adjust every pension for the year by the province's rule (pension_adjustment.toml):
    each entitlement retired by 31 December of the year before, unless the person died before
    January. Months already paid from January on are paid the increase as arrears now; later
    payments include it. A second run adjusts nobody (`adjusted` 0, `already_adjusted` all).
    422 `adjustment_rule_missing` when the province has no rule for the year."""
    run = adjust_pensions(container, body.year, actor=principal.username)
    return CommandResponse[AdjustmentRunView](
        result=AdjustmentRunView.model_validate(run.as_dict()), position=run.position,
        replayed=False)
