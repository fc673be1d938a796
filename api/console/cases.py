"""办件: the case queues (待我签批 / 我受理的 / 全部在办), a case's archive view, and the sign and
reject forms of the step a reviewer, deputy director or director acts at — through
infra/case_service.py CaseService, whose rules (the maker never signs, nobody signs twice, a
role signs only its step, materials first) refuse what may not be done; the console only
leaves out the forms that would be refused."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.access import masked_case, sees_clear
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
    read_of_person,
    redirect,
    render,
    wait_for_write,
)
from domain.errors import DomainError, NotFound
from infra.access_log import PersonRef
from infra.case_queries import case_queue, case_view
from infra.case_service import Actor, CaseService, business_today

QUEUE_ROWS_SHOWN = 200
SCOPES = ("to_sign", "mine", "open")

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

Reader = Annotated[Staff, Depends(page_for("read_cases"))]
SignerForm = Annotated[Staff, Depends(form_for("sign_cases"))]
CaseId = Annotated[str, Path(max_length=64)]


def _actor(staff: Staff) -> Actor:
    return Actor(staff.principal.username, list(staff.principal.roles))


@router.get("/cases", response_class=HTMLResponse)
def queue(request: Request, staff: Reader,
          scope: Annotated[Literal["to_sign", "mine", "open"], Query()] = "to_sign",
          ) -> Response:
    """Oldest deadline first; applicants masked for roles that do not see personal data in
    clear (as GET /v1/cases)."""
    container = container_of(request)
    rows = case_queue(container.views, scope, staff.principal.username,
                      list(staff.principal.roles), business_today(), QUEUE_ROWS_SHOWN)
    if not sees_clear(container.access_log.policy, staff.principal):
        rows = [masked_case(r) for r in rows]
    return render(request, staff, "cases.html", title="办件", rows=rows, scope=scope,
                  scopes=SCOPES, rows_max=QUEUE_ROWS_SHOWN, labels=labels)


def _can_sign(case: dict[str, Any], staff: Staff) -> bool:
    """Whether the forms are worth showing: the service decides (and refuses) anyway."""
    username = staff.principal.username
    roles = set(staff.principal.roles)
    return (case["status"] == "open" and case["next_step"] is not None
            and staff.may("sign_cases") and case["opened_by"] != username
            and all(s["signer"] != username for s in case["signatures"])
            and ("admin" in roles or not roles.isdisjoint(case["next_roles"])))


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: CaseId, staff: Reader) -> Response:
    """The archive view (as GET /v1/cases/{id}): a case for a person is a read of their record,
    recorded with the session's reason."""
    container = container_of(request)
    found = case_view(container.views, case_id, business_today())
    if found is None:
        raise NotFound("case_not_found", f"no case {case_id}", field="case_id")
    access = read_of_person(request, staff) if found["applicant_id_number"] else None
    shown = found if access is None or access.clear else masked_case(found)
    step = next((s for s in found["steps"] if s["name"] == found["next_step"]), None)
    page = render(request, staff, "case.html", title="办件详情", case=shown, step=step,
                  can_sign=_can_sign(found, staff), labels=labels,
                  reason_length_max=FORM_TEXT_LENGTH_MAX)
    if access is not None:
        access.record(PersonRef(found["person_id"], found["applicant_id_number"],
                                found["applicant_name"] or ""), target=case_id)
    return page


@router.post("/cases/{case_id}/sign")
def sign(request: Request, case_id: CaseId, staff: SignerForm,
         comment: Annotated[str, Form(max_length=FORM_TEXT_LENGTH_MAX)] = "") -> Response:
    """Sign the current step; the last signature completes the case (its effects are saved
    with the completion in one transaction, by the service)."""
    try:
        done = CaseService(container_of(request)).sign(case_id, _actor(staff), comment.strip())
    except DomainError as e:
        staff.session.flash("error", error_text(e.code, e.message))
    else:
        wait_for_write(request, done.position)
        completed = done.result.get("status") == "completed"
        staff.session.flash("ok", "已签批，办件已办结。" if completed else
                            "已签批，已转下一环节。")
    return redirect(f"{PREFIX}/cases/{case_id}")


@router.post("/cases/{case_id}/reject")
def reject(request: Request, case_id: CaseId, staff: SignerForm,
           reason: Annotated[str, Form(max_length=FORM_TEXT_LENGTH_MAX)] = "") -> Response:
    try:
        done = CaseService(container_of(request)).reject(case_id, _actor(staff), reason.strip())
    except DomainError as e:
        staff.session.flash("error", error_text(e.code, e.message))
    else:
        wait_for_write(request, done.position)
        staff.session.flash("ok", "已退回该办件。")
    return redirect(f"{PREFIX}/cases/{case_id}")
