"""转移接续: the bureau's queue of pension transfers between pooling regions (as GET
/v1/transfers) — all, transfers in waiting for the old region's funds, those overdue (逾期未到账,
judged on today at the bureau), posted, remitted out — for the roles that read the case queues.
Persons are masked for roles that do not see personal data in clear; for the others each links
to the person's profile (a read of their record, with the session's reason)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.access import masked, sees_clear
from api.console import labels
from api.console.web import PREFIX, ConsoleRoute, Staff, container_of, page_for, render
from infra.case_service import business_today
from infra.transfer_queries import TRANSFER_LIST_MAX, transfer_list

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

Reader = Annotated[Staff, Depends(page_for("read_cases"))]


@dataclass(frozen=True)
class View:
    """A tab of the page: the filter of GET /v1/transfers it stands for."""

    code: str
    label: str
    direction: str | None = None
    status: str | None = None
    overdue: bool = False


VIEWS = (
    View("all", "全部"),
    View("waiting", "已受理待到账", "in", "accepted"),
    View("overdue", "逾期未到账", "in", "accepted", overdue=True),
    View("posted", "转入已记账", "in", "posted"),
    View("remitted", "已转出", "out", "remitted"),
    View("cancelled", "转入已终止", "in", "cancelled"),
)
VIEW_BY_CODE = {v.code: v for v in VIEWS}
assert set(VIEW_BY_CODE) == {"all", "waiting", "overdue", "posted", "remitted", "cancelled"}


@router.get("/transfers", response_class=HTMLResponse)
def queue(request: Request, staff: Reader,
          view: Annotated[Literal["all", "waiting", "overdue", "posted", "remitted",
                                  "cancelled"], Query()] = "all") -> Response:
    container = container_of(request)
    chosen = VIEW_BY_CODE[view]
    today = business_today()
    rows = transfer_list(container, today, direction=chosen.direction, status=chosen.status,
                         overdue=chosen.overdue, limit=TRANSFER_LIST_MAX)
    clear = sees_clear(container.access_log.policy, staff.principal)
    if not clear:
        rows = [masked(r, ("id_number",), ("name",)) for r in rows]
    return render(request, staff, "transfers.html", title="转移接续", rows=rows,
                  views=VIEWS, view=chosen, today=today.isoformat(), clear=clear,
                  may_read_person=staff.may("read"), rows_max=TRANSFER_LIST_MAX,
                  labels=labels)
