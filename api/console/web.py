"""The console's plumbing: who is signed in (the session cookie), what their roles let them see
(the menu and each page come from `PERMISSIONS` in api/deps.py, the API's own table), CSRF
tokens on forms that change things, page rendering (jinja2, autoescaped), and refusals as
Chinese pages instead of the API's problem+json.

`ConsoleRoute` is the route class of every console router: it turns the console's own
exceptions (sign-in needed, forbidden, stale form, reason needed) and the domain's refusals
into pages, and puts the security headers on every response."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from eventsourcing.persistence import IntegrityError
from fastapi import Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.access import PersonRead, person_read
from api.console.messages import error_text
from api.console.sessions import ConsoleSession, SessionStore
from api.deps import PERMISSIONS, permits
from api.errors import ApiProblem, domain_status
from domain.errors import DomainError, NotFound
from domain.staff import ROLES
from infra.bootstrap import Container
from infra.staff_service import Principal
from infra.statement_labels import cst_time

log = logging.getLogger(__name__)

PREFIX = "/console"
COOKIE_NAME = "shebao_console"
TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
WAIT_FOR_OWN_WRITE_SECONDS = 3.0  # after a command, before the page that lists its result
FORM_TEXT_LENGTH_MAX = 500  # comments, reasons, notes: as the API (api/routers/cases.py)

# Every console response: nothing from elsewhere (no CDN), no framing, no caching of pages
# that hold personal data, no referrer (URLs of person pages hold the ID number). Inline
# styles are allowed for the statement page and the report's SVG charts; scripts are not.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
                               "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class MenuEntry:
    label: str
    path: str
    actions: tuple[str, ...]  # PERMISSIONS keys, any of which shows it; () for everyone


MENU = (
    MenuEntry("首页", f"{PREFIX}/", ()),
    MenuEntry("参保人查询", f"{PREFIX}/persons", ("read",)),
    MenuEntry("基金收支", f"{PREFIX}/funds", ("read",)),
    MenuEntry("对账", f"{PREFIX}/reconciliation",
              ("read_imports", "read_finance", "read_suspense")),
    MenuEntry("办件", f"{PREFIX}/cases", ("read_cases",)),
    MenuEntry("转移接续", f"{PREFIX}/transfers", ("read_cases",)),
    MenuEntry("年度报告", f"{PREFIX}/report", ("read_annual_report",)),
    MenuEntry("风险预警", f"{PREFIX}/alerts", ("audit_alerts",)),
)
assert all(a in PERMISSIONS for entry in MENU for a in entry.actions)


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member of a request."""

    principal: Principal
    session: ConsoleSession

    def may(self, *actions: str) -> bool:
        """Whether any of `actions` is permitted; no action: everyone signed in."""
        return not actions or any(permits(a, self.principal.roles) for a in actions)

    @property
    def roles_zh(self) -> str:
        return "、".join(ROLES.get(r, r) for r in self.principal.roles)


# -- refusals the route class turns into pages ---------------------------------------------------

class LoginRequired(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, actions: tuple[str, ...]) -> None:
        super().__init__(actions)
        roles = sorted({r for a in actions for r in PERMISSIONS[a]} | {"admin"})
        self.roles_zh = "、".join(ROLES[r] for r in roles)


class StaleForm(Exception):
    """The form's CSRF token is not the session's: sent from elsewhere, or from an old page."""


class ReasonRequired(Exception):
    """A person's record is about to be read and the session has no reason (查询事由) yet."""


# -- the request's parts -------------------------------------------------------------------------

def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def sessions_of(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.console_sessions
    return store


def staff_or_none(request: Request) -> Staff | None:
    """The signed-in user, or None (no cookie, an expired session, a deactivated user)."""
    store = sessions_of(request)
    session = store.get(request.cookies.get(COOKIE_NAME))
    if session is None:
        return None
    try:
        principal = container_of(request).staff.principal(session.username)
    except NotFound:  # deactivated since signing in: the session ends with the user
        store.end(session.session_id)
        return None
    return Staff(principal, session)


def signed_in(request: Request) -> Staff:
    staff = staff_or_none(request)
    if staff is None:
        raise LoginRequired
    return staff


SignedIn = Annotated[Staff, Depends(signed_in)]


def page_for(*actions: str) -> Callable[[Staff], Staff]:
    """A dependency: the signed-in user when one of `actions` is theirs, else a 403 page."""
    for action in actions:
        assert action in PERMISSIONS, action

    def dependency(staff: SignedIn) -> Staff:
        if not staff.may(*actions):
            raise Forbidden(actions)
        return staff

    return dependency


def csrf_checked(staff: SignedIn,
                 csrf_token: Annotated[str, Form(max_length=100)] = "") -> Staff:
    """A dependency of every form that changes something: the form must carry the session's
    CSRF token (a page of another site cannot read it)."""
    if not secrets.compare_digest(csrf_token.encode(), staff.session.csrf_token.encode()):
        raise StaleForm
    return staff


CsrfChecked = Annotated[Staff, Depends(csrf_checked)]


def form_for(*actions: str) -> Callable[[Staff], Staff]:
    """A dependency of a form that changes something: a CSRF-checked form of a user who may do
    one of `actions`."""
    check = page_for(*actions)

    def dependency(staff: CsrfChecked) -> Staff:
        return check(staff)

    return dependency


def read_of_person(request: Request, staff: Staff) -> PersonRead:
    """A read of a person's record that may go ahead, with the reason chosen for the session:
    the API's own check and record (api/access.py), so that console reads are logged exactly
    like API reads. The caller records it (`.record(PersonRef…)`) before the page goes out."""
    session = staff.session
    if session.reason_code is None:
        raise ReasonRequired
    container = container_of(request)
    # The note travels as the API's header does: percent-encoded UTF-8.
    return person_read(request, Response(), container, container.access_log.policy,
                       staff.principal, session.reason_code, quote(session.reason_note), None)


# -- rendering -----------------------------------------------------------------------------------

def yuan(amount_fen: int | None) -> str:
    """12345678 → "123,456.78": exact (Decimal), grouped for reading."""
    if amount_fen is None:
        return "—"
    return f"{Decimal(amount_fen) / 100:,.2f}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["yuan"] = yuan
    env.filters["roles_zh"] = lambda roles: "或".join(ROLES.get(r, r) for r in roles)
    env.filters["cst"] = lambda recorded_at: cst_time(recorded_at) if recorded_at else "—"
    env.globals["ROLES"] = ROLES
    env.globals["PREFIX"] = PREFIX
    return env


def render(request: Request, staff: Staff | None, template: str, *, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    menu = [] if staff is None else [
        {"label": e.label, "path": e.path,
         "current": request.url.path == e.path or (
             e.path != f"{PREFIX}/" and request.url.path.startswith(e.path))}
        for e in MENU if staff.may(*e.actions)]
    page = environment().get_template(template).render(
        request_path=request.url.path, staff=staff, menu=menu,
        flashes=staff.session.take_flashes() if staff else [],
        csrf_token=staff.session.csrf_token if staff else "", **context)
    return HTMLResponse(page, status_code=status_code)


def redirect(path: str) -> RedirectResponse:
    """After a form: 303, so that the browser GETs the next page (and a reload resends
    nothing)."""
    return RedirectResponse(path, status_code=303)


def local_path(candidate: str | None, default: str = f"{PREFIX}/") -> str:
    """A console path to go on to, never another site (`//host`, `https://…`)."""
    if (candidate and candidate.startswith(f"{PREFIX}/") and "//" not in candidate
            and "\\" not in candidate):
        return candidate
    return default


def wait_for_write(request: Request, position: int) -> None:
    """Read your own writes: the next page reads read models that this command changed."""
    container_of(request).runner.wait_for(position, WAIT_FOR_OWN_WRITE_SECONDS)


# -- the route class -----------------------------------------------------------------------------

class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query
                                             else "")
                next_path = target if request.method == "GET" else f"{PREFIX}/"
                response = redirect(f"{PREFIX}/login?next={quote(next_path, safe='/')}")
            except Exception as e:  # every other refusal becomes a page
                response = await refusal_page(request, e)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return console_handler


async def refusal_page(request: Request, e: Exception) -> Response:
    # In the thread pool: the session is read (and its messages taken) from the database.
    return await run_in_threadpool(_refusal_page, request, e)


def _refusal_page(request: Request, e: Exception) -> Response:
    staff = staff_or_none(request)
    if isinstance(e, Forbidden):
        return render(request, staff, "refused.html", status_code=403, title="无权访问",
                      message=f"您的角色（{staff.roles_zh if staff else '未登录'}）无权访问此页面。"
                              f"可访问的角色：{e.roles_zh}。如需开通，请联系系统管理员。")
    if isinstance(e, StaleForm):
        return render(request, staff, "refused.html", status_code=403, title="表单已失效",
                      message="表单已过期或并非来自本系统，操作未执行。请返回页面刷新后重试。")
    if isinstance(e, ReasonRequired):
        assert staff is not None
        return render(request, staff, "reason.html", title="请选择查询事由",
                      reasons=container_of(request).access_log.policy.reasons.values(),
                      next_path=local_path(request.url.path), error=None)
    if isinstance(e, DomainError):
        return render(request, staff, "refused.html", status_code=domain_status(e),
                      title="未能完成", message=error_text(e.code, e.message))
    if isinstance(e, ApiProblem):
        return render(request, staff, "refused.html", status_code=e.status, title="未能完成",
                      message=error_text(e.code, e.detail))
    if isinstance(e, RequestValidationError):
        fields = "、".join(str(err.get("loc", ("",))[-1]) for err in e.errors())
        return render(request, staff, "refused.html", status_code=422, title="输入不正确",
                      message=f"以下输入项不正确或超出长度：{fields}。请返回修改后重试。")
    if isinstance(e, IntegrityError):  # a concurrent writer won: nothing of this was written
        return render(request, staff, "refused.html", status_code=409, title="未能完成",
                      message=error_text("concurrent_update", ""))
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return render(request, staff, "refused.html", status_code=500, title="系统错误",
                  message="系统发生意外错误，已记录日志。请稍后重试；如仍失败，请联系系统管理员。")
