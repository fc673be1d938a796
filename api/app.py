"""The HTTP API: `create_app()` builds the FastAPI application; its lifespan opens the container
(store, read models, services), catches the read models up, and follows new events.

Endpoints are plain `def`: the eventsourcing library and our stores are synchronous, and FastAPI
runs such endpoints in its thread pool.

Responses: every route has a pydantic response model, which FastAPI serialises straight to JSON
bytes in pydantic-core — faster than ORJSONResponse, which FastAPI now deprecates for that
reason. orjson still renders problem+json (api/errors.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api import console
from api.deps import acting_user
from api.errors import install_handlers, problem, problems_as_problem_json
from api.routers import (
    access_log,
    accounts,
    alerts,
    arrears,
    backpayments,
    benefits,
    cases,
    certifications,
    contributions,
    employers,
    finance,
    funds,
    health,
    imports,
    integrity,
    interest,
    pension_adjustments,
    pensions,
    persons,
    reports,
    statements,
    suspense,
    trace,
    transfers,
)
from infra.blob_store import BLOB_BYTES_MAX
from infra.bootstrap import Container
from infra.settings import Settings

API_PREFIX = "/v1"
# A full batch (api.schemas.BATCH_LINES_MAX lines of ~250 bytes) is about 2.5 MB.
REQUEST_BODY_BYTES_MAX = 8 * 1024 * 1024


def open_container(settings: Settings | None, follow: bool,
                   followed_elsewhere: bool = False) -> Container:
    container = Container.open(settings or Settings.from_env())
    try:
        if followed_elsewhere:
            container.runner.followed_elsewhere = True
        else:
            container.runner.catch_up()
        if follow:
            container.runner.start()
    except BaseException:
        container.close()
        raise
    return container


def create_app(settings: Settings | None = None, *, follow: bool = True,
               followed_elsewhere: bool = False) -> FastAPI:
    """`follow=False` leaves out the follower thread: reads with `min_position` then catch the
    read models up in the request's own thread (tests, one-shot tools).
    `followed_elsewhere=True`: another process follows (a worker of `shebao serve --workers`):
    no follower thread and no catch-up here, reads wait for that process."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container = await run_in_threadpool(
            open_container, settings, follow and not followed_elsewhere, followed_elsewhere)
        app.state.container = container
        try:
            await run_in_threadpool(console.open_sessions, app, container)
            yield
        finally:
            await run_in_threadpool(container.close)

    app = FastAPI(
        title="shebao-ledger",
        summary="Event-sourced social-insurance ledger (社会保险经办) of one pooling region.",
        version="1",
        docs_url="/docs",
        lifespan=lifespan,
    )
    install_handlers(app)
    app.add_middleware(BodySizeLimit, bytes_max=REQUEST_BODY_BYTES_MAX, bytes_max_by_path={
        API_PREFIX + imports.UPLOAD_PATH:
            imports.UPLOAD_BYTES_MAX + imports.MULTIPART_OVERHEAD_BYTES_MAX,
        API_PREFIX + finance.UPLOAD_PATH:
            finance.UPLOAD_BYTES_MAX + finance.MULTIPART_OVERHEAD_BYTES_MAX,
        API_PREFIX + benefits.UPLOAD_PATH:
            benefits.UPLOAD_BYTES_MAX + benefits.MULTIPART_OVERHEAD_BYTES_MAX},
        bytes_max_by_suffix={
            cases.MATERIALS_SUFFIX: BLOB_BYTES_MAX + cases.MULTIPART_OVERHEAD_BYTES_MAX})
    # Routes are matched router by router in this order: the statements (the busiest reads:
    # the yearly mailing and the counter) come first.
    for module in (health, statements, employers, persons, accounts, contributions, funds,
                   interest, imports, suspense, finance, arrears, backpayments, cases,
                   integrity, trace, access_log, alerts, reports, pensions, certifications,
                   pension_adjustments, transfers, benefits):
        # Every route but health needs a user, whom the events of its commands record. The
        # statements issue no command and authenticate in their one dependency (StatementRead).
        dependencies = [] if module in (health, statements) else [Depends(acting_user)]
        app.include_router(module.router, prefix=API_PREFIX, dependencies=dependencies)
    app.include_router(statements.public_router, prefix=API_PREFIX)  # statement verification
    console.install(app)  # the web console (经办管理台) under /console

    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problems_as_problem_json(default_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def worker_app() -> FastAPI:
    """The app of one worker process of `shebao serve --workers N` (a uvicorn factory): settings
    from the environment, which the serving process set; that process follows the events."""
    return create_app(Settings.from_env(), followed_elsewhere=True)


class BodySizeLimit:
    """Refuses a request body over `bytes_max` before it is read: 413 by its Content-Length, and
    411 for a chunked body, whose size is unknown until it has all been read. A path in
    `bytes_max_by_path` (a file upload) has its own limit."""

    def __init__(self, app: ASGIApp, bytes_max: int,
                 bytes_max_by_path: Mapping[str, int] | None = None,
                 bytes_max_by_suffix: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.bytes_max = bytes_max
        self.bytes_max_by_path = dict(bytes_max_by_path or {})
        self.bytes_max_by_suffix = dict(bytes_max_by_suffix or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            length = headers.get("content-length")
            path: str = scope["path"]
            bytes_max = self.bytes_max_by_path.get(path) or next(
                (n for suffix, n in self.bytes_max_by_suffix.items() if path.endswith(suffix)),
                self.bytes_max)
            refusal = None
            if length is None and "chunked" in headers.get("transfer-encoding", "").lower():
                refusal = (411, "length_required", "send the body with a Content-Length")
            elif length is not None and (not length.isdigit() or int(length) > bytes_max):
                refusal = (413, "body_too_large",
                           f"the request body is over {bytes_max} bytes; send less at once")
            if refusal is not None:
                status, code, detail = refusal
                response = problem(Request(scope), status, code, detail)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
