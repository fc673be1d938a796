"""The web console (经办管理台): server-rendered pages in Simplified Chinese on the API's own app,
under /console, for staff signed in with their bearer token. Nothing is loaded from elsewhere:
one stylesheet served from api/console/static, system CJK fonts, no script.

Handlers are thin: they call the same services and queries as the API (infra/), check roles
against the API's PERMISSIONS table (api/deps.py), and record reads of persons' records
through the API's access log (api/access.py)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.console import (
    alerts,
    cases,
    downloads,
    funds,
    home,
    persons,
    reconciliation,
    report,
    transfers,
)
from api.console.sessions import SessionStore
from api.console.web import PREFIX, STATIC, ConsoleRoute, render, staff_or_none
from infra.bootstrap import Container

PAGES = (home, persons, funds, reconciliation, cases, report, alerts, downloads,
         transfers)

_not_found = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


@_not_found.api_route("/{rest:path}", methods=["GET", "POST"])
def page_not_found(request: Request, rest: str) -> Response:
    return render(request, staff_or_none(request), "refused.html", status_code=404,
                  title="页面不存在", message="没有这个页面。请从菜单进入。")


def install(app: FastAPI) -> None:
    """Mount the console on `app`: its stylesheet and pages; `/` leads to it. The session
    store comes with the container (`open_sessions`)."""
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")
    for module in PAGES:
        app.include_router(module.router)
    app.include_router(_not_found)  # last: after every console page

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/")


def open_sessions(app: FastAPI, container: Container) -> None:
    """The console's session store on the container's read-model database, its table made when
    missing: called by the app's lifespan once the container is open, in every worker process
    (they then share every session)."""
    app.state.console_sessions = SessionStore(container.views)
