"""Fund balances: pooled funds, clearing and special accounts, and personal accounts summed per
insurance, so that the table is a trial balance (debits = credits)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ContainerDep, Reader, ReadPosition
from api.errors import problem_responses
from api.schemas import FundAccount, FundsView, TrialBalance

router = APIRouter(prefix="/funds", tags=["funds"],
                   responses=problem_responses(401, 403, 422, 503))


@router.get("", response_model=FundsView)
def get_funds(principal: Reader, container: ContainerDep, position: ReadPosition) -> FundsView:
    accounts = [FundAccount.model_validate(row) for row in container.queries.fund_balances()]
    debit_fen = sum(a.debit_fen for a in accounts)
    credit_fen = sum(a.credit_fen for a in accounts)
    return FundsView(
        accounts=accounts, position=position,
        trial_balance=TrialBalance(debit_fen=debit_fen, credit_fen=credit_fen,
                                   balanced=debit_fen == credit_fen),
    )
