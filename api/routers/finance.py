"""Finance special-account reconciliation (财政专户对账): upload of the special account's
statement (财政专户对账单), the list of imported statements, and the report of differences
against the ledger's fund movements (JSON, CSV, XLSX).

The statement is the finance bureau's record: it is stored and compared, never posted. The
upload is synchronous and goes to disk in chunks (a statement is small: at most
`UPLOAD_BYTES_MAX`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from api.deps import ContainerDep, FinanceReader, ReadPosition, StatementImporter
from api.errors import problem_responses
from api.routers.imports import (
    CSV_MEDIA_TYPE,
    ENCODING_LENGTH_MAX,
    OFFSET_MAX,
    XLSX_MEDIA_TYPE,
    imports_dir,
    save_upload,
)
from infra.bootstrap import Container
from infra.finance_reconciliation import (
    STATEMENTS_LIMIT_MAX,
    list_statements,
    reconcile,
    write_csv,
    write_xlsx,
)
from infra.finance_statement_import import import_statement
from infra.three_way import three_way

UPLOAD_PATH = "/finance/statements"
UPLOAD_BYTES_MAX = 64 * 1024 * 1024  # 200,000 lines of ~150 bytes is 30 MB
MULTIPART_OVERHEAD_BYTES_MAX = 64 * 1024

router = APIRouter(prefix="/finance", tags=["finance"],
                   responses=problem_responses(401, 403, 422))


class DirectionAmounts(BaseModel):
    receipt: int
    payment: int


class StatementSummaryView(BaseModel):
    """What became of a statement's lines: imported or rejected, amounts per direction and per
    insurance."""

    file_name: str
    sha256: str
    statement_id: str
    already_imported: bool = Field(description="The same file (sha256) was imported before: "
                                                "nothing was written, this is its summary.")
    lines: int
    imported: int
    rejected: int
    amounts_fen: DirectionAmounts
    by_insurance: dict[str, DirectionAmounts] = Field(description="insurance → direction → fen")
    rejected_codes: dict[str, int]
    first_date: str | None
    last_date: str | None
    rejects_file: str | None
    position: int


class StatementView(BaseModel):
    statement_id: str
    file_name: str
    sha256: str
    size_bytes: int
    imported_by: str
    line_count: int
    rejected_count: int
    rejects_sha256: str | None
    receipts_fen: int
    payments_fen: int
    first_date: str | None
    last_date: str | None
    position: int
    recorded_at: str


class StatementPage(BaseModel):
    items: list[StatementView]
    limit: int
    offset: int
    next_offset: int | None
    position: int


class ReconciliationRow(BaseModel):
    period: str = Field(description="YYYY-MM, or YYYY-MM-DD with granularity=day")
    insurance: str
    statement_receipts_fen: int
    statement_payments_fen: int
    statement_lines: int
    ledger_receipts_fen: int = Field(description="contribution + reversal + suspense")
    ledger_contribution_fen: int
    ledger_reversal_fen: int
    ledger_suspense_fen: int
    ledger_payments_fen: int
    receipts_difference_fen: int = Field(description="statement − ledger")
    payments_difference_fen: int = Field(description="statement − ledger")
    status: str = Field(json_schema_extra={"enum": ["ok", "difference"]})


class ReconciliationView(BaseModel):
    statement: StatementView | None
    granularity: str
    from_: str | None = Field(alias="from")
    to: str | None
    rows: list[ReconciliationRow]
    totals: dict[str, int]
    differences: int = Field(description="Rows with a difference.")
    status: str = Field(json_schema_extra={"enum": ["ok", "difference"]})
    position: int


class ThreeWayRow(BaseModel):
    insurance: str
    assessed_fen: int = Field(description="应收: persons employed with a declared base.")
    collected_fen: int = Field(description="实收: posted + held in suspense.")
    posted_fen: int
    suspense_fen: int
    received_fen: int = Field(description="Special-account receipts of received_month.")
    ledger_received_fen: int = Field(description="The ledger's receipts of received_month.")
    assessed_minus_collected_fen: int
    collected_minus_received_fen: int
    status: str = Field(json_schema_extra={"enum": ["ok", "difference"]})


class ThreeWayView(BaseModel):
    period: str
    received_month: str
    rows: list[ThreeWayRow]
    totals: dict[str, int]
    differences: int
    status: str = Field(json_schema_extra={"enum": ["ok", "difference"]})
    position: int


@router.post("/statements", status_code=201, response_model=StatementSummaryView,
             responses={200: {"model": StatementSummaryView,
                              "description": "The same file was imported before."},
                        **problem_responses(413)})
def upload_statement(
    principal: StatementImporter, container: ContainerDep, response: Response,
    file: Annotated[UploadFile, File(description="Special-account statement (财政专户对账单): "
                                                 "CSV (UTF-8, GBK/GB18030) or XLSX.")],
    encoding: Annotated[str | None, Form(max_length=ENCODING_LENGTH_MAX, description=(
        "CSV encoding, e.g. gbk; default: detected."))] = None,
) -> StatementSummaryView:
    """Record a statement of the finance special account; rejected lines go to a rejects file.
    The same file again answers 200 with its summary and writes nothing; a fault of the whole
    file (a missing column, undecodable bytes) is 422 and records nothing."""
    folder = imports_dir(container)
    work = FilePath(tempfile.mkdtemp(prefix="statement-", dir=folder))
    try:
        path, digest = save_upload(file, work, UPLOAD_BYTES_MAX,
                                   "split the statement by year or month")
        summary = import_statement(container, path, encoding or None,
                                   rejects_path=folder / f"{digest}.statement-rejects.csv",
                                   imported_by=f"api:{principal.username}",
                                   sha256=digest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if summary.already_imported:
        response.status_code = 200
    return StatementSummaryView.model_validate(summary.as_dict())


@router.get("/statements", response_model=StatementPage, responses=problem_responses(503))
def get_statements(principal: FinanceReader, container: ContainerDep, position: ReadPosition,
                   limit: Annotated[int, Query(ge=1, le=STATEMENTS_LIMIT_MAX)] = 100,
                   offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0) -> StatementPage:
    """Imported statements, the latest first."""
    rows = list_statements(container.views, limit, offset)
    return StatementPage(items=[StatementView.model_validate(r) for r in rows], limit=limit,
                         offset=offset, next_offset=offset + limit if len(rows) == limit
                         else None, position=position)


PeriodFrom = Annotated[str | None, Query(alias="from", max_length=10,
                                         description="First month YYYY-MM (or day)")]
PeriodTo = Annotated[str | None, Query(alias="to", max_length=10,
                                       description="Last month YYYY-MM (or day)")]
Granularity = Annotated[str, Query(pattern="^(month|day)$")]
StatementKey = Annotated[str | None, Query(max_length=64, description=(
    "Compare one statement (id or sha256) over its months; default: every statement."))]


def _report(container: Container, statement: str | None, start: str | None, end: str | None,
            granularity: str) -> dict[str, Any]:
    return reconcile(container.views, statement, start, end, granularity)


@router.get("/reconciliation", response_model=ReconciliationView, response_model_by_alias=True,
            responses=problem_responses(404, 503))
def get_reconciliation(principal: FinanceReader, container: ContainerDep,
                       position: ReadPosition, start: PeriodFrom = None, end: PeriodTo = None,
                       granularity: Granularity = "month", statement: StatementKey = None
                       ) -> ReconciliationView:
    """The statement's receipts and payments against the ledger's fund movements per period
    and insurance, with the differences (statement − ledger) and a status per row."""
    report = _report(container, statement, start, end, granularity)
    return ReconciliationView.model_validate({**report, "position": position})


@router.get("/three-way", response_model=ThreeWayView, responses=problem_responses(503))
def get_three_way(
    principal: FinanceReader, container: ContainerDep, period: Annotated[str, Query(
        max_length=16, description="The contribution period (费款所属期), YYYY-MM.")],
    received_month: Annotated[str | None, Query(
        max_length=16, description="Month of special-account receipts to compare; default: "
                                   "the month the period falls due in.")] = None,
) -> ThreeWayView:
    """三方对账 of one period per insurance: assessed (应收) = collected (实收: posted + held)
    = received into the special account (入专户), with the differences."""
    return ThreeWayView.model_validate(three_way(container, period, received_month))


def reconciliation_file(container: Container, report: dict[str, Any], suffix: str
                        ) -> FilePath:
    """The report as a CSV or XLSX file in a temporary path (the caller removes it once
    sent); also the console's download."""
    handle, name = tempfile.mkstemp(prefix="finance-", suffix=suffix, dir=imports_dir(container))
    os.close(handle)
    path = FilePath(name)
    try:
        (write_csv if suffix == ".csv" else write_xlsx)(report, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


@router.get("/reconciliation.csv", response_class=FileResponse,
            responses={200: {"content": {CSV_MEDIA_TYPE: {}}}, **problem_responses(404, 503)})
def get_reconciliation_csv(principal: FinanceReader, container: ContainerDep,
                           position: ReadPosition, start: PeriodFrom = None,
                           end: PeriodTo = None, granularity: Granularity = "month",
                           statement: StatementKey = None) -> FileResponse:
    """The rows under Chinese headers and a totals row, UTF-8 with BOM."""
    path = reconciliation_file(
        container, _report(container, statement, start, end, granularity), ".csv")
    return FileResponse(path, media_type=CSV_MEDIA_TYPE, filename="finance-reconciliation.csv",
                        background=BackgroundTask(path.unlink, missing_ok=True))


@router.get("/reconciliation.xlsx", response_class=FileResponse,
            responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}, **problem_responses(404, 503)})
def get_reconciliation_xlsx(principal: FinanceReader, container: ContainerDep,
                            position: ReadPosition, start: PeriodFrom = None,
                            end: PeriodTo = None, granularity: Granularity = "month",
                            statement: StatementKey = None) -> FileResponse:
    """Sheets 汇总 (summary and totals) and 明细 (a row per period and insurance)."""
    path = reconciliation_file(
        container, _report(container, statement, start, end, granularity), ".xlsx")
    return FileResponse(path, media_type=XLSX_MEDIA_TYPE,
                        filename="finance-reconciliation.xlsx",
                        background=BackgroundTask(path.unlink, missing_ok=True))
