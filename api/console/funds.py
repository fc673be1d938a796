"""基金收支: the balance of every fund, clearing and special account, and of the personal
accounts summed per insurance, with the trial balance (debits = credits), from the read model
as GET /v1/funds. An auditor follows an account to its trace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from api.console import labels
from api.console.web import PREFIX, ConsoleRoute, Staff, container_of, page_for, render

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

Reader = Annotated[Staff, Depends(page_for("read"))]


@router.get("/funds", response_class=HTMLResponse)
def funds(request: Request, staff: Reader) -> Response:
    container = container_of(request)
    accounts = [{**row, "name": labels.account_name(row["account"], container.policy),
                 # the personal accounts' sum is a bucket, not an account with a trace
                 "traceable": not row["account"].startswith("personal:")}
                for row in container.queries.fund_balances()]
    debit_fen = sum(a["debit_fen"] for a in accounts)
    credit_fen = sum(a["credit_fen"] for a in accounts)
    return render(request, staff, "funds.html", title="基金收支", accounts=accounts,
                  debit_fen=debit_fen, credit_fen=credit_fen,
                  balanced=debit_fen == credit_fen, may_trace=staff.may("trace"),
                  position=container.runner.position())
