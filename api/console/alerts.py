"""风险预警: the risk monitor's alerts for auditors and the director, with the forms to
acknowledge (认领) and close (办结) one — infra/alert_service.py, as the API's /v1/alerts. The
service refuses what may not be done (an alert about one's own actions, a closed one)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.console import labels
from api.console.messages import error_text
from api.console.web import (
    FORM_TEXT_LENGTH_MAX,
    PREFIX,
    ConsoleRoute,
    Staff,
    container_of,
    form_for,
    page_for,
    redirect,
    render,
    wait_for_write,
)
from domain.errors import DomainError
from infra.alert_service import acknowledge_alert, close_alert, list_alerts

ALERTS_SHOWN = 100
OFFSET_MAX = 10_000_000

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

Auditor = Annotated[Staff, Depends(page_for("audit_alerts"))]
AuditorForm = Annotated[Staff, Depends(form_for("audit_alerts"))]
AlertId = Annotated[str, Path(max_length=64)]
Status = Literal["raised", "acknowledged", "closed", ""]


@router.get("/alerts", response_class=HTMLResponse)
def alerts(request: Request, staff: Auditor, status: Annotated[Status, Query()] = "",
           offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0) -> Response:
    rows = list_alerts(container_of(request), status or None, limit=ALERTS_SHOWN,
                       offset=offset)
    return render(request, staff, "alerts.html", title="风险预警", rows=rows, status=status,
                  offset=offset, rows_max=ALERTS_SHOWN, labels=labels,
                  text_length_max=FORM_TEXT_LENGTH_MAX,
                  next_offset=offset + ALERTS_SHOWN if len(rows) == ALERTS_SHOWN else None)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(request: Request, alert_id: AlertId, staff: AuditorForm,
                note: Annotated[str, Form(max_length=FORM_TEXT_LENGTH_MAX)] = "",
                ) -> Response:
    try:
        done = acknowledge_alert(container_of(request), alert_id, staff.principal.username,
                                 note.strip())
    except DomainError as e:
        staff.session.flash("error", error_text(e.code, e.message))
    else:
        wait_for_write(request, done.position)
        staff.session.flash("ok", "已认领该预警。")
    return redirect(f"{PREFIX}/alerts")


@router.post("/alerts/{alert_id}/close")
def close(request: Request, alert_id: AlertId, staff: AuditorForm,
          resolution: Annotated[str, Form(max_length=FORM_TEXT_LENGTH_MAX)] = "") -> Response:
    try:
        done = close_alert(container_of(request), alert_id, staff.principal.username,
                           resolution.strip())
    except DomainError as e:
        staff.session.flash("error", error_text(e.code, e.message))
    else:
        wait_for_write(request, done.position)
        staff.session.flash("ok", "已办结该预警。")
    return redirect(f"{PREFIX}/alerts")
