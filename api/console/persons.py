"""参保人查询: search by ID number with the reason for the read (查询事由), the person's profile
(registration, employments, bases, contributions, account balance, pension payments,
transfers between regions, cases), their personal rights statements (HTML, PDF) and the trace
of their history and accounts.

Every page that shows a person's record records the read first, through the API's own check
and log (api/access.py, via `read_of_person`), with the reason chosen on the search form and
kept for the session; roles that do not see personal data in clear see it masked here as in
the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.access import PersonRead
from api.console import labels
from api.console.messages import error_text
from api.console.web import (
    PREFIX,
    ConsoleRoute,
    Staff,
    container_of,
    form_for,
    local_path,
    page_for,
    read_of_person,
    redirect,
    render,
)
from api.routers.statements import public_base_url, statement_queries
from api.statement_html import render_html
from domain.access_record import NOTE_LENGTH_MAX
from domain.errors import DomainError, NotFound
from domain.identity import mask_id_number, mask_name, parse_id_number
from domain.policy import PENSION
from domain.registration import Person
from domain.verification_code import YEAR_MAX, YEAR_MIN
from infra.access_log import PersonRef
from infra.benefit_payment_queries import person_benefit_payments
from infra.bootstrap import Container
from infra.case_queries import person_cases
from infra.case_service import business_today
from infra.pension_payments import person_payments
from infra.statement_pdf import render_pdf
from infra.statement_queries import IssuedStatement, check_year, masked
from infra.trace import TraceEntry, check_account
from infra.transfer_queries import person_transfer_list

HISTORY_ROWS_MAX = 600  # 50 years of months: a whole working life on one page
PAYMENT_ROWS_MAX = 24  # the latest two years of monthly pension payments
BENEFIT_ROWS_MAX = 24  # the latest benefit payments of 210-510 (the API pages through all)
TRACE_ROWS_MAX = 1000  # as the API's default; the totals still cover the whole span
PDF_MEDIA_TYPE = "application/pdf"

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

Reader = Annotated[Staff, Depends(page_for("read"))]
SearchForm = Annotated[Staff, Depends(form_for("read"))]
TraceReader = Annotated[Staff, Depends(page_for("trace"))]
IdNumberPath = Annotated[str, Path(max_length=32)]
YearPath = Annotated[int, Path(ge=YEAR_MIN, le=YEAR_MAX)]


def _search_page(request: Request, staff: Staff, *, id_number: str = "",
                 error: str | None = None, status_code: int = 200) -> HTMLResponse:
    policy = container_of(request).access_log.policy
    return render(request, staff, "persons_search.html", status_code=status_code,
                  title="参保人查询", reasons=list(policy.reasons.values()),
                  selected_reason=staff.session.reason_code, note=staff.session.reason_note,
                  id_number=id_number, error=error, note_length_max=NOTE_LENGTH_MAX)


@router.get("/persons", response_class=HTMLResponse)
def search_page(request: Request, staff: Reader) -> Response:
    return _search_page(request, staff)


@router.post("/persons/search", response_class=HTMLResponse)
def search(request: Request, staff: SearchForm,
           id_number: Annotated[str, Form(max_length=32)] = "",
           reason: Annotated[str, Form(max_length=64)] = "",
           note: Annotated[str, Form(max_length=NOTE_LENGTH_MAX)] = "") -> Response:
    """Checks the number and the reason, keeps the reason (and note) for the session, and goes
    to the profile: the reason then covers the person's pages until it is changed here."""
    policy = container_of(request).access_log.policy
    try:
        number = parse_id_number(id_number).number
    except DomainError as e:
        return _search_page(request, staff, id_number=id_number, status_code=422,
                            error=error_text(e.code, e.message))
    chosen = policy.reasons.get(reason)
    error = None
    if chosen is None:
        error = error_text("access_reason_missing", "")
    elif chosen.note_required and not note.strip():
        error = error_text("access_note_missing", "")
    if error is not None:
        return _search_page(request, staff, id_number=id_number, status_code=422, error=error)
    assert chosen is not None
    staff.session.choose_reason(chosen.code, note.strip())
    return redirect(f"{PREFIX}/persons/{number}")


@router.post("/reason", response_class=HTMLResponse)
def choose_reason(request: Request, staff: SearchForm,
                  reason: Annotated[str, Form(max_length=64)] = "",
                  note: Annotated[str, Form(max_length=NOTE_LENGTH_MAX)] = "",
                  next_path: Annotated[str, Form(alias="next", max_length=500)] = "",
                  ) -> Response:
    """The reason asked for by a page that reads a person's record when the session has none
    (a bookmarked page, a link from a case)."""
    policy = container_of(request).access_log.policy
    chosen = policy.reasons.get(reason)
    target = local_path(next_path)
    if chosen is None or (chosen.note_required and not note.strip()):
        code = "access_reason_missing" if chosen is None else "access_note_missing"
        return render(request, staff, "reason.html", status_code=422, title="请选择查询事由",
                      reasons=list(policy.reasons.values()), next_path=target,
                      error=error_text(code, ""))
    staff.session.choose_reason(chosen.code, note.strip())
    return redirect(target)


def _shown(person: Person, clear: bool) -> dict[str, Any]:
    """The person's identity as this reader may see it."""
    return {
        "person_id": str(person.id),
        "id_number": person.id_number if clear else mask_id_number(person.id_number),
        "name": person.name if clear else mask_name(person.name),
        "sex": labels.SEX_ZH.get(person.sex, person.sex),
        "birth_date": person.birth_date if clear else "（已脱敏）",
        "registered_on": person.registered_on,
        "retired_on": person.retired_on,
        "died_on": person.died_on,
        "clear": clear,
    }


@router.get("/persons/{id_number}", response_class=HTMLResponse)
def profile(request: Request, id_number: IdNumberPath, staff: Reader) -> Response:
    container = container_of(request)
    access = read_of_person(request, staff)
    try:
        person = container.ledger.person(id_number)
    except NotFound as e:
        return _search_page(request, staff, id_number=id_number, status_code=404,
                            error=error_text(e.code, e.message))
    person_id = str(person.id)
    queries = container.queries
    balance = queries.account_balance(person_id, insurance=PENSION)
    history = queries.history(person_id, limit=HISTORY_ROWS_MAX)
    employers = {spell["employer_code"]: _employer_name(container, spell["employer_code"])
                 for spell in person.employments}
    cases = None
    if staff.may("read_cases"):
        cases = person_cases(container.views, person_id, business_today())
    years = sorted({int(y) for y in person.bases} | {int(h["period"][:4]) for h in history},
                   reverse=True)
    # 养老金发放: the latest months (the whole list is in the API and the statement).
    paid = person_payments(container, person_id, limit=1)
    payments = person_payments(container, person_id, limit=PAYMENT_ROWS_MAX,
                               offset=max(0, paid.months - PAYMENT_ROWS_MAX))
    # 失业、医疗、工伤、生育待遇: the latest payments, by the month paid for.
    counted = person_benefit_payments(container, person_id, limit=1)
    benefits = person_benefit_payments(container, person_id, limit=BENEFIT_ROWS_MAX,
                                       offset=max(0, counted.payments - BENEFIT_ROWS_MAX))
    for item in benefits.items:
        item["insurance_name_zh"] = labels.insurance_name(item["insurance"], container.policy)
    # 转移接续: every transfer in and out (a handful in a working life), newest first.
    transfers = person_transfer_list(container, person_id, business_today())
    page = render(request, staff, "person.html", title="参保人信息",
                  person=_shown(person, access.clear), number=person.id_number,
                  employments=person.employments, employers=employers,
                  bases=sorted(((int(y), b) for y, b in person.bases.items()), reverse=True),
                  balance=balance, history=history, history_max=HISTORY_ROWS_MAX,
                  cases=cases, years=years, reason=_reason_name(container, staff),
                  payments=payments, payment_rows_max=PAYMENT_ROWS_MAX,
                  benefits=benefits, benefit_rows_max=BENEFIT_ROWS_MAX,
                  transfers=transfers,
                  pension_account=f"personal:{person_id}:{PENSION}",
                  may_trace=staff.may("trace"), labels=labels)
    access.record(PersonRef(person_id, person.id_number, person.name))
    return page


def _employer_name(container: Container, credit_code: str) -> str:
    try:
        return str(container.ledger.employer(credit_code).name)
    except DomainError:
        return ""


def _reason_name(container: Container, staff: Staff) -> str:
    reason = container.access_log.policy.reasons.get(staff.session.reason_code or "")
    note = f"（{staff.session.reason_note}）" if staff.session.reason_note else ""
    return (reason.name_zh if reason else "") + note


# -- statements ----------------------------------------------------------------------------------

def _issue(request: Request, id_number: str, year: int, access: PersonRead) -> IssuedStatement:
    """The statement as the API issues it (api/routers/statements.py): at the read models'
    position, the read recorded with the person as the statement names them."""
    container = container_of(request)
    queries = statement_queries(container)
    person_id = queries.person_id_of(id_number)
    found = queries.issue(person_id, check_year(year), container.runner.position())
    registration = found.statement.registration
    access.record(PersonRef(person_id, registration.id_number, registration.name))
    return found


@router.get("/persons/{id_number}/statements/{year}.pdf")
def statement_pdf(request: Request, id_number: IdNumberPath, year: YearPath,
                  staff: Reader) -> Response:
    """A download (attachment): the console's link saves the PDF to print or hand over."""
    access = read_of_person(request, staff)
    found = _issue(request, id_number, year, access)
    statement = found.statement if access.clear else masked(found.statement)
    pdf = render_pdf(statement, found.content_hash, found.verification_code,
                     found.verify_url(public_base_url(container_of(request), request)))
    return Response(pdf, media_type=PDF_MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="statement-{year}.pdf"',
        "X-Verification-Code": found.verification_code})


@router.get("/persons/{id_number}/statements/{year}.html", response_class=HTMLResponse)
def statement_html(request: Request, id_number: IdNumberPath, year: YearPath,
                   staff: Reader) -> Response:
    access = read_of_person(request, staff)
    found = _issue(request, id_number, year, access)
    statement = found.statement if access.clear else masked(found.statement)
    page = render_html(statement, found.content_hash, found.verification_code,
                       found.verify_url(public_base_url(container_of(request), request)),
                       masked=not access.clear, link_prefix=PREFIX)
    return HTMLResponse(page)


# -- trace ---------------------------------------------------------------------------------------

@router.get("/persons/{id_number}/trace", response_class=HTMLResponse)
def person_trace(request: Request, id_number: IdNumberPath, staff: TraceReader) -> Response:
    """The person's whole history across insurances (as GET /v1/persons/{id}/trace)."""
    container = container_of(request)
    access = read_of_person(request, staff)
    person = container.ledger.person(id_number)
    person_id = str(person.id)
    entries = container.tracer.person_history(person_id)
    page = render(request, staff, "person_trace.html", title="业务轨迹",
                  person=_shown(person, access.clear), number=person.id_number,
                  entries=entries, labels=labels,
                  account_names={a: labels.account_name(a, container.policy)
                                 for e in entries for a in e.amounts})
    access.record(PersonRef(person_id, person.id_number, person.name))
    return page


@router.get("/trace", response_class=HTMLResponse)
def account_trace(
    request: Request, staff: TraceReader,
    account: Annotated[str, Query(max_length=80)] = "",
    date_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> Response:
    """An account's events with the running balance (资金追溯, as GET /v1/trace). A personal
    account is a read of that person's record: it needs the reason and is recorded."""
    container = container_of(request)
    if not account:
        return render(request, staff, "trace.html", title="资金追溯", trace=None, entries=[],
                      account="", date_from=date_from, date_to=date_to, account_label="",
                      rows_max=TRACE_ROWS_MAX, labels=labels)
    code = check_account(account)
    personal = code.startswith("personal:")
    access = read_of_person(request, staff) if personal else None
    trace = container.tracer.account(code, date_from or None, date_to or None)
    entries: list[TraceEntry] = []
    for entry in trace.entries:  # consumed whole: the totals and the tie need every entry
        if len(entries) < TRACE_ROWS_MAX:
            entries.append(entry)
    page = render(request, staff, "trace.html", title="资金追溯", trace=trace,
                  entries=entries, account=code, date_from=date_from, date_to=date_to,
                  account_label=labels.account_name(code, container.policy),
                  rows_max=TRACE_ROWS_MAX, labels=labels)
    if access is not None:
        access.record(PersonRef(code.split(":")[1], ""))
    return page
