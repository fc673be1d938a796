"""Personal rights statements (个人权益记录单): one person's year as JSON, HTML or PDF, issued at
the position the read models have reached; and the public verification of a statement's code
(no token: whoever holds the paper may check it).

A statement read is a read of the person's record: it needs `X-Access-Reason` and is recorded
(api/access.py); roles that do not see personal data in clear get the name and ID number
masked, with the hash and code of the statement as issued."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from api.access import PersonRead, person_read_by
from api.deps import (
    WAIT_SECONDS_DEFAULT,
    ContainerDep,
    MinPosition,
    ReadPosition,
    WaitSeconds,
    container_of,
    reached_position,
)
from api.errors import problem_responses
from api.statement_html import render_html
from api.statement_schemas import InsuranceSummaryView, StatementView, VerificationView
from domain.identity import mask_id_number, mask_name
from domain.statement import canonical_json
from domain.verification_code import TYPED_LENGTH_MAX, YEAR_MAX, YEAR_MIN
from infra.access_log import PersonRef
from infra.bootstrap import Container
from infra.statement_pdf import render_pdf
from infra.statement_queries import IssuedStatement, StatementQueries, check_year, masked

router = APIRouter(tags=["statements"])
# Included without the token every other route needs: whoever holds the paper may check it.
public_router = APIRouter(tags=["statements"])

IdNumberPath = Annotated[str, Path(max_length=32, description="Resident ID number.")]
YearPath = Annotated[int, Path(ge=YEAR_MIN, le=YEAR_MAX, description="The statement's year.")]
# The teller's read of a statement: who, may they (`read`), and why, in one dependency; the
# route reads the position in its own thread (api/deps.py reached_position).
StatementRead = Annotated[PersonRead, Depends(person_read_by("read"))]
PDF_MEDIA_TYPE = "application/pdf"
PERSON_RESPONSES = problem_responses(400, 401, 403, 404, 422, 503)


_QUERIES_KEPT_MAX = 8  # containers (applications) in one process: one in service, more in tests
_queries: dict[int, StatementQueries] = {}


def statement_queries(container: Container) -> StatementQueries:
    """One per container: it keeps what never changes (the recorded time of a position)."""
    found = _queries.get(id(container.views))
    if found is None or found.views is not container.views:
        if len(_queries) >= _QUERIES_KEPT_MAX:
            _queries.clear()
        found = _queries[id(container.views)] = StatementQueries(
            container.views, container.store, container.policy, container.settings.region_code)
    return found


def public_base_url(container: Container, request: Request) -> str:
    """Where the verification page is: SHEBAO_PUBLIC_URL, else the address this request came
    to (behind a proxy, set the setting)."""
    return container.settings.public_url or str(request.base_url)


def _issue(container: Container, id_number: str, year: int, access: PersonRead,
           min_position: int | None, wait_seconds: float) -> IssuedStatement:
    queries = statement_queries(container)
    position = reached_position(container, min_position, wait_seconds)
    person_id = queries.person_id_of(id_number)
    found = queries.issue(person_id, check_year(year), position)
    registration = found.statement.registration
    access.record(PersonRef(person_id, registration.id_number, registration.name))
    return found


@router.get("/persons/{id_number}/statements/{year}.pdf", response_class=Response,
            responses={**PERSON_RESPONSES, 200: {"content": {PDF_MEDIA_TYPE: {}}}})
def statement_pdf(id_number: IdNumberPath, year: YearPath, request: Request,
                  access: StatementRead, min_position: MinPosition = None,
                  wait_seconds: WaitSeconds = WAIT_SECONDS_DEFAULT) -> Response:
    """The statement as a one-page A4 PDF in Simplified Chinese with its verification code and
    a QR code of the verification URL."""
    container = container_of(request)
    found = _issue(container, id_number, year, access, min_position, wait_seconds)
    statement = found.statement if access.clear else masked(found.statement)
    pdf = render_pdf(statement, found.content_hash, found.verification_code,
                     found.verify_url(public_base_url(container, request)))
    return Response(pdf, media_type=PDF_MEDIA_TYPE, headers={
        "Content-Disposition": f'inline; filename="statement-{year}.pdf"',
        "X-Content-Hash": found.content_hash, "X-Verification-Code": found.verification_code})


@router.get("/persons/{id_number}/statements/{year}.html", response_class=HTMLResponse,
            responses=PERSON_RESPONSES)
def statement_html(id_number: IdNumberPath, year: YearPath, request: Request,
                   access: StatementRead, min_position: MinPosition = None,
                   wait_seconds: WaitSeconds = WAIT_SECONDS_DEFAULT) -> HTMLResponse:
    """The statement as an HTML page; every figure links to the trace of its events."""
    container = container_of(request)
    found = _issue(container, id_number, year, access, min_position, wait_seconds)
    statement = found.statement if access.clear else masked(found.statement)
    page = render_html(statement, found.content_hash, found.verification_code,
                       found.verify_url(public_base_url(container, request)),
                       masked=not access.clear)
    return HTMLResponse(page)


@router.get("/persons/{id_number}/statements/{year}", response_model=StatementView,
            responses=PERSON_RESPONSES)
def statement_json(id_number: IdNumberPath, year: YearPath, request: Request,
                   access: StatementRead, min_position: MinPosition = None,
                   wait_seconds: WaitSeconds = WAIT_SECONDS_DEFAULT) -> Response:
    """The statement of a year as known at the read models' position: registration and
    employers, per insurance each month's base and amounts (paid, arrears), the personal
    account (opening, credits, back-pay, interest and its rate, closing), benefits; each figure
    with the log positions of its events. `content_hash` is the sha256 of `statement` as
    written here (keys sorted, no spaces) when not masked."""
    container = container_of(request)
    found = _issue(container, id_number, year, access, min_position, wait_seconds)
    statement = found.canonical if access.clear else canonical_json(masked(found.statement))
    verify_url = found.verify_url(public_base_url(container, request))
    # Written by hand around the canonical bytes: re-serialising through the response model
    # would give other bytes than those hashed (and cost more).
    body = (b'{"statement":' + statement + b',"content_hash":"'
            + found.content_hash.encode() + b'","verification_code":"'
            + found.verification_code.encode() + b'","verify_url":'
            + orjson.dumps(verify_url) + b',"masked":'
            + (b"false" if access.clear else b"true") + b"}")
    return Response(body, media_type="application/json")


@public_router.get("/statements/verify/{code}", response_model=VerificationView,
            responses=problem_responses(422, 503))
def verify_statement(code: Annotated[str, Path(max_length=TYPED_LENGTH_MAX, description=(
        "The verification code as printed (校验码), e.g. `BA00000-0X2ATE2-7GWEWFN`; case, "
        "hyphens and spaces do not matter."))], container: ContainerDep,
        position: ReadPosition) -> VerificationView:
    """Public: rebuilds the statement the code names as known at its position and compares
    content hashes. Valid: the year, position, full content hash, the person's masked name and
    ID number, and the main figures to compare with the paper. A malformed or mistyped code is
    422 (`verification_code_malformed`, `verification_code_check_char`)."""
    result = statement_queries(container).verify(code, position)
    if not result.valid or result.issued is None:
        return VerificationView(code=result.code, valid=False, reason=result.reason,
                                year=result.year, position=result.position)
    statement = result.issued.statement
    account = statement.account()
    return VerificationView(
        code=result.code, valid=True, reason=None, year=statement.year,
        position=statement.position, as_of=statement.as_of,
        content_hash=result.issued.content_hash,
        name_masked=mask_name(statement.registration.name),
        id_number_masked=mask_id_number(statement.registration.id_number),
        insurances=[InsuranceSummaryView(
            insurance=r.insurance, name_zh=r.name_zh, paid_months=r.paid_months,
            paid_fen=r.paid_fen, arrears_fen=r.arrears_fen,
            cumulative_months=r.cumulative_months) for r in statement.insurances],
        account_closing_fen=account.closing.fen if account else None)
