"""Dependencies of the routes: the container, the acting staff member and what their roles allow,
the Idempotency-Key header, and read-your-writes waits on the read models.

A dependency that does no I/O is `async def`: FastAPI runs a plain `def` one in its thread
pool, one thread hop (with a copy of the context) each, which cost more than the work itself
(scripts/bench_api_reads.py). Those that may read the store stay `def`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.errors import ApiProblem
from domain.staff import ROLES
from infra.bootstrap import Container
from infra.ledger_service import LedgerService
from infra.staff_service import Principal

ADMIN_ROLE = "admin"  # allowed everywhere
READERS = ("teller", "reviewer", "deputy_director", "director", "auditor", "reconciler")

# Who may do what, besides admin. One table, so that it can be read and reviewed as a whole.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    # action                 roles
    "register":             ("teller",),  # employers, persons, employments, bases
    "post_contributions":   ("reconciler", "teller"),  # single and batch
    "reverse_contribution": ("reviewer",),
    "credit_interest":      (),  # admin only
    "pay_pensions":         (),  # admin only: the monthly pension payment run (养老金发放)
    "certify_pensioners":   ("teller", "reviewer"),  # 待遇资格认证: record a certification
    "adjust_pensions":      (),  # admin only: the yearly pension adjustment run (养老金调整)
    "read":                 READERS,  # persons, employers, accounts, history, funds
    "import_collections":   ("reconciler",),  # upload a tax collection file
    "read_imports":         ("reconciler", "auditor", "director", "reviewer"),  # reports
    "import_statements":    ("reconciler",),  # upload a finance special-account statement
    # upload benefit payment details (待遇支付明细) of 210/310/410/510 that other systems paid
    "import_benefits":      ("reconciler",),
    "read_finance":         ("reconciler", "auditor", "director"),  # statements, 对账
    "decide_suspense":      ("reconciler",),  # assign or refund a suspense item
    "read_suspense":        ("reconciler", "auditor", "director", "reviewer"),
    # 补缴核定 is a high-risk item (DOMAIN.md §12): a reviewer assesses or cancels; the
    # reconciler records the tax bureau's collection of it.
    "assess_backpay":       ("reviewer",),
    "collect_backpay":      ("reconciler",),
    # 风险预警 of the risk monitor: list, read, acknowledge and close alerts.
    "audit_alerts":         ("auditor", "director"),
    # 资金追溯: an account's events with who stood behind them, a person's whole history.
    "trace":                ("auditor", "director", "reviewer", "reconciler"),
    # 查询留痕: who read which person's record, when and why (masked; never clear data).
    "read_access_log":      ("auditor", "director"),
    # 年度报告: the region's annual figures, reproducible from the events.
    "read_annual_report":   ("director", "deputy_director", "auditor"),
    # 办件 (counter business): read the queues and archive; sign or reject a step (the step's
    # own roles decide which of these signs it: domain/case.py).
    "read_cases":           ("teller", "reviewer", "deputy_director", "director", "auditor"),
    "sign_cases":           ("reviewer", "deputy_director", "director"),
}
assert all(role in ROLES for roles in PERMISSIONS.values() for role in roles), PERMISSIONS

TOKEN_LENGTH_MAX = 200
WAIT_SECONDS_DEFAULT = 2.0
WAIT_SECONDS_MAX = 10.0
RETRY_AFTER_LAGGING_SECONDS = 1
RETRY_AFTER_STOPPED_SECONDS = 30

_bearer = HTTPBearer(auto_error=False, description="A staff token: `shebao users add …`.")
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def get_container(request: Request) -> Container:
    return container_of(request)


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def current_principal(
    container: ContainerDep, credentials: BearerCredentials) -> Principal:
    return await authenticated(container, credentials)


async def authenticated(container: Container,
                        credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The token's user: remembered for 30 s after a read (infra/staff_service.py
    PRINCIPAL_TTL_SECONDS), else read from the store in the thread pool."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise ApiProblem(401, "token_missing",
                         "send the header Authorization: Bearer <token>", headers=challenge)
    token = credentials.credentials
    principal = None
    if len(token) <= TOKEN_LENGTH_MAX:
        principal = (container.staff.remembered(token)
                     or await run_in_threadpool(container.staff.authenticate, token))
    if principal is None:
        raise ApiProblem(401, "token_invalid",
                         "the bearer token is unknown or its user is deactivated; "
                         "ask an administrator for a new token",
                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return principal


async def acting_user(principal: Annotated[Principal, Depends(current_principal)]
                      ) -> AsyncIterator[None]:
    """Every event a command saves during this request carries the acting user in its meta
    (infra/ledger_service.py `acting`). Async on purpose: set in the request's own task, the
    context reaches the endpoint's worker thread (which gets a copy of it) and no other
    request."""
    with LedgerService.acting(principal.username):
        yield


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through a principal holding one of `roles`, or admin."""
    check = role_check(*roles)

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]
                         ) -> Principal:
        return check(principal)

    return dependency


def role_check(*roles: str) -> Callable[[Principal], Principal]:
    """A check that lets through a principal holding one of `roles`, or admin; else 403."""
    for role in roles:
        assert role in ROLES, role
    allowed = frozenset(roles) | {ADMIN_ROLE}
    names = ", ".join(sorted(allowed))

    def check(principal: Principal) -> Principal:
        if allowed.isdisjoint(principal.roles):
            raise ApiProblem(
                403, "role_forbidden",
                f"this needs one of the roles {names}; user {principal.username} has "
                f"{', '.join(principal.roles) or 'none'}",
            )
        return principal

    return check


def allowed(action: str) -> Callable[[Principal], Awaitable[Principal]]:
    return require_roles(*PERMISSIONS[action])


def allowed_check(action: str) -> Callable[[Principal], Principal]:
    """`allowed` as a plain check, for a dependency that authenticates by itself."""
    return role_check(*PERMISSIONS[action])


def permits(action: str, roles: tuple[str, ...] | list[str]) -> bool:
    """Whether a holder of `roles` may do `action` (the web console's menus and pages)."""
    return ADMIN_ROLE in roles or not set(PERMISSIONS[action]).isdisjoint(roles)


Registrar = Annotated[Principal, Depends(allowed("register"))]
Poster = Annotated[Principal, Depends(allowed("post_contributions"))]
Reverser = Annotated[Principal, Depends(allowed("reverse_contribution"))]
InterestCreditor = Annotated[Principal, Depends(allowed("credit_interest"))]
Reader = Annotated[Principal, Depends(allowed("read"))]
Importer = Annotated[Principal, Depends(allowed("import_collections"))]
ImportReader = Annotated[Principal, Depends(allowed("read_imports"))]
StatementImporter = Annotated[Principal, Depends(allowed("import_statements"))]
FinanceReader = Annotated[Principal, Depends(allowed("read_finance"))]
SuspenseDecider = Annotated[Principal, Depends(allowed("decide_suspense"))]
SuspenseReader = Annotated[Principal, Depends(allowed("read_suspense"))]
BackPayAssessor = Annotated[Principal, Depends(allowed("assess_backpay"))]
BackPayCollector = Annotated[Principal, Depends(allowed("collect_backpay"))]
Tracer = Annotated[Principal, Depends(allowed("trace"))]
AccessLogReader = Annotated[Principal, Depends(allowed("read_access_log"))]
AnnualReportReader = Annotated[Principal, Depends(allowed("read_annual_report"))]

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key",
    description="Client-chosen key (1-200 characters). A repeat with the same key and body "
                "returns the original result with `replayed: true` and writes nothing; the "
                "same key with another body is 409 `idempotency_key_reused`.",
)]


def source_of(principal: Principal, label: str | None = None) -> str:
    """The `source` recorded on posting events: who sent it through the API, and from what."""
    return f"api:{principal.username}" + (f":{label}" if label else "")


MinPosition = Annotated[int | None, Query(
    ge=0, description="Read your writes: wait until the read models have applied this log "
                      "position (the `position` a command returned).")]
WaitSeconds = Annotated[float, Query(
    ge=0, description=f"How long to wait for `min_position` (at most {WAIT_SECONDS_MAX:g} s); "
                      "then 503 `projection_lagging` with Retry-After.")]


def read_position(container: ContainerDep, min_position: MinPosition = None,
                  wait_seconds: WaitSeconds = WAIT_SECONDS_DEFAULT) -> int:
    """Wait (bounded) for the read models to reach `min_position`; returns the position they
    have reached, which the response reports."""
    return reached_position(container, min_position, wait_seconds)


def reached_position(container: Container, min_position: int | None,
                     wait_seconds: float = WAIT_SECONDS_DEFAULT) -> int:
    """`read_position` for a route that takes `min_position` and `wait_seconds` itself and
    calls this in its own thread (one thread hop fewer per request: the statement reads)."""
    runner = container.runner
    if min_position is not None:
        try:
            reached = runner.wait_for(min_position, min(wait_seconds, WAIT_SECONDS_MAX))
        except RuntimeError as e:  # the follower thread died: no wait will help
            raise ApiProblem(503, "projection_stopped", f"read models are not updating: {e}",
                             headers={"Retry-After": str(RETRY_AFTER_STOPPED_SECONDS)}) from e
        if not reached:
            raise ApiProblem(
                503, "projection_lagging",
                f"read models have not reached position {min_position} yet "
                f"(at {runner.position()}); retry shortly",
                field="min_position", headers={"Retry-After": str(RETRY_AFTER_LAGGING_SECONDS)},
            )
    return runner.position()


ReadPosition = Annotated[int, Depends(read_position)]


async def current_aggregate(min_position: MinPosition = None,
                      wait_seconds: WaitSeconds = WAIT_SECONDS_DEFAULT) -> None:
    """Reads of an aggregate are always current: `min_position` is accepted (so that a client
    can send it on every read) and needs no wait."""
