"""Signing in with a bearer token, signing out, and the dashboard (首页): the user's case queues
and the open risk alerts, as far as their roles may see them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.console.web import (
    COOKIE_NAME,
    PREFIX,
    ConsoleRoute,
    CsrfChecked,
    SignedIn,
    container_of,
    local_path,
    redirect,
    render,
    sessions_of,
    staff_or_none,
)
from api.deps import TOKEN_LENGTH_MAX
from domain.alert import ACKNOWLEDGED, RAISED
from infra.alert_service import list_alerts
from infra.case_queries import case_queue
from infra.case_service import business_today

QUEUE_COUNT_MAX = 500  # the dashboard counts a queue up to this many, then says "500+"
LOGIN_PATH = f"{PREFIX}/login"

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request,
               next_path: Annotated[str, Query(alias="next", max_length=500)] = "") -> Response:
    if staff_or_none(request) is not None:
        return redirect(local_path(next_path))
    return render(request, None, "login.html", title="登录", next_path=local_path(next_path),
                  error=None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, token: Annotated[str, Form(max_length=TOKEN_LENGTH_MAX)] = "",
          next_path: Annotated[str, Form(alias="next", max_length=500)] = "") -> Response:
    """No CSRF token here (there is no session yet); the session cookie is SameSite=Strict,
    and a forged sign-in would need the victim's own token."""
    principal = container_of(request).staff.authenticate(token.strip())
    if principal is None:
        return render(request, None, "login.html", status_code=401, title="登录",
                      next_path=local_path(next_path),
                      error="令牌无效或该用户已停用。请核对令牌，或联系系统管理员重新签发。")
    session = sessions_of(request).start(principal.username)
    response = redirect(local_path(next_path))
    response.set_cookie(COOKIE_NAME, session.session_id, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path=PREFIX)
    return response


@router.post("/logout")
def logout(request: Request, staff: CsrfChecked) -> Response:
    sessions_of(request).end(staff.session.session_id)
    response = redirect(LOGIN_PATH)
    response.delete_cookie(COOKIE_NAME, path=PREFIX, httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")
    return response


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, staff: SignedIn) -> Response:
    container = container_of(request)
    counts: dict[str, int] = {}
    if staff.may("read_cases"):
        today = business_today()
        for scope in ("to_sign", "mine", "open"):
            counts[scope] = len(case_queue(container.views, scope, staff.principal.username,
                                           list(staff.principal.roles), today, QUEUE_COUNT_MAX))
    alerts: dict[str, int] | None = None
    if staff.may("audit_alerts"):
        alerts = {status: len(list_alerts(container, status, limit=QUEUE_COUNT_MAX))
                  for status in (RAISED, ACKNOWLEDGED)}
    return render(request, staff, "dashboard.html", title="首页", counts=counts, alerts=alerts,
                  count_max=QUEUE_COUNT_MAX, position=container.runner.position())
