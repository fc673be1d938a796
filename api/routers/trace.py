"""Trace of every fen (资金追溯) for auditors: an account's events over a span of ledger days with
the running balance and who and what stands behind each (JSON, or CSV streamed for any size),
and a person's full history across insurances (infra/trace.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.access import REQUEST_ID_HEADER, PersonRead, PersonReadDep, PersonReadWhenNeeded
from api.deps import ContainerDep, ReadPosition, Tracer
from api.errors import problem_responses
from infra.access_log import PersonRef
from infra.trace import TraceEntry, check_account, csv_lines

router = APIRouter(tags=["trace"], responses=problem_responses(401, 403, 404, 422, 503))

TRACE_ENTRIES_MAX = 10_000
TRACE_ENTRIES_DEFAULT = 1000
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"

Account = Annotated[str, Query(max_length=80, description=(
    "Account code: fund:<insurance>, personal:<person id>:<insurance>, clearing:tax, "
    "suspense, bank:payout …"), examples=["fund:110"])]
DayFrom = Annotated[str | None, Query(alias="from", max_length=10,
                                      description="First ledger day (CST), YYYY-MM-DD.")]
DayTo = Annotated[str | None, Query(alias="to", max_length=10,
                                    description="Last ledger day (CST), YYYY-MM-DD.")]


class TraceEntryView(BaseModel):
    position: int
    recorded_at: str
    day: str = Field(description="Ledger day of the recording, China Standard Time.")
    event: str
    aggregate_id: str
    version: int
    person_id: str | None
    period: str | None = Field(description="Month, year or day the event takes effect for.")
    debit_fen: int
    credit_fen: int
    balance_fen: int | None = Field(description="Running balance after this event.")
    source: str | None
    actor: str | None
    command: str | None
    reason: str | None
    case_id: str | None
    case_item: str | None
    signers: list[str]
    materials: list[str]
    import_file: str | None
    amounts: dict[str, int] = Field(default_factory=dict, description=(
        "Person history: fen the event put on each of the person's accounts, each pooled "
        "fund and another region's account region:<code> (a transfer; credit minus debit)."))


class AccountTraceView(BaseModel):
    account: str
    date_from: str
    date_to: str
    opening_balance_fen: int
    debit_fen: int
    credit_fen: int
    closing_balance_fen: int | None
    expected_closing_fen: int = Field(description="The read models' balance at the last day.")
    ties: bool | None = Field(description="The trace's closing balance equals the read models'.")
    entries: int
    items: list[TraceEntryView]
    truncated: bool = Field(description="More entries than `limit`: use the CSV for all.")
    position: int


class PersonHistoryView(BaseModel):
    person_id: str
    items: list[TraceEntryView]
    position: int


def _view(entry: TraceEntry) -> TraceEntryView:
    return TraceEntryView.model_validate({**entry.row(), "amounts": entry.amounts})


def _personal_read(account: str, need_reason: Callable[[], PersonRead],
                   ) -> tuple[PersonRead, PersonRef] | None:
    """A personal account's trace is a read of that person's record (查询留痕): it needs
    `X-Access-Reason`, checked here before anything is read; a fund's trace does not."""
    code = check_account(account)
    if not code.startswith("personal:"):
        return None
    return need_reason(), PersonRef(code.split(":")[1], "")


@router.get("/trace", response_model=AccountTraceView)
def trace_account(
    principal: Tracer, need_reason: PersonReadWhenNeeded, container: ContainerDep,
    position: ReadPosition, account: Account,
    date_from: DayFrom = None, date_to: DayTo = None,
    limit: Annotated[int, Query(ge=1, le=TRACE_ENTRIES_MAX)] = TRACE_ENTRIES_DEFAULT,
) -> AccountTraceView:
    """Every event that touched the account in the span, oldest first, with the running
    balance; totals and the tie to the read models cover the whole span even when the list
    is cut at `limit`. A personal account needs `X-Access-Reason` (the read is recorded)."""
    personal = _personal_read(account, need_reason)
    trace = container.tracer.account(account, date_from, date_to)
    items = []
    for entry in trace.entries:
        if len(items) < limit:
            items.append(_view(entry))
    view = AccountTraceView(**trace.summary(), items=items, truncated=trace.count > limit,
                            position=position)
    if personal:
        personal[0].record(personal[1])
    return view


@router.get("/trace.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}})
def trace_account_csv(principal: Tracer, need_reason: PersonReadWhenNeeded,
                      container: ContainerDep, account: Account, date_from: DayFrom = None,
                      date_to: DayTo = None) -> StreamingResponse:
    """The same as CSV, streamed: an opening-balance row, one row per event, and a closing
    row with the totals and whether they tie to the read models. A personal account needs
    `X-Access-Reason` (the read is recorded before the rows go out)."""
    personal = _personal_read(account, need_reason)
    trace = container.tracer.account(account, date_from, date_to)
    if personal:
        personal[0].record(personal[1])
    name = f"trace-{trace.account.replace(':', '_')}-{trace.date_from}-{trace.date_to}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if personal:  # a returned response does not carry the headers dependencies set
        headers[REQUEST_ID_HEADER] = personal[0].request.request_id
    return StreamingResponse(csv_lines(trace), media_type=CSV_MEDIA_TYPE, headers=headers)


@router.get("/persons/{id_number}/trace", response_model=PersonHistoryView)
def person_history(
    id_number: Annotated[str, Path(max_length=32, description="Resident ID number.")],
    principal: Tracer, access: PersonReadDep, container: ContainerDep, position: ReadPosition,
) -> PersonHistoryView:
    """The person's full history across insurances: every event of their registration,
    months, interest years, back-payments, cases, suspense items, benefits and transfers
    between regions, in log order.
    Needs `X-Access-Reason` (the read is recorded)."""
    person = container.ledger.person(id_number)
    person_id = str(person.id)
    entries = container.tracer.person_history(person_id)
    view = PersonHistoryView(person_id=person_id, items=[_view(e) for e in entries],
                             position=position)
    access.record(PersonRef(person_id, person.id_number, person.name))
    return view
