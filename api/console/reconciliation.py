"""对账: imported tax collection files and the reconciliation report of each, the finance
special-account reconciliation (statement vs ledger per month and insurance), and the suspense
items (暂收/挂账) — each section shown to the roles the API lets read it. ID numbers are
masked, as in the API's lists."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.console import labels
from api.console.web import PREFIX, ConsoleRoute, Staff, container_of, page_for, render
from domain.identity import mask_id_number
from infra.finance_reconciliation import STATUS_ZH, list_statements, reconcile
from infra.reconciliation_report import OUTCOME_ZH, batch_report, list_batches

BATCHES_SHOWN = 20
STATEMENTS_SHOWN = 10
RECONCILIATION_ROWS_SHOWN = 240  # 20 years of months for one insurance; the totals cover all
SUSPENSE_ROWS_SHOWN = 100
REPORT_ITEMS_PER_PAGE = 100
OFFSET_MAX = 10_000_000

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

Reader = Annotated[Staff, Depends(page_for("read_imports", "read_finance", "read_suspense"))]
ImportReader = Annotated[Staff, Depends(page_for("read_imports"))]


@router.get("/reconciliation", response_class=HTMLResponse)
def reconciliation(
    request: Request, staff: Reader,
    status: Annotated[Literal["held", "assigned", "refunded", ""], Query()] = "held",
) -> Response:
    container = container_of(request)
    views = container.views
    batches = list_batches(views, BATCHES_SHOWN) if staff.may("read_imports") else None
    finance = None
    if staff.may("read_finance"):
        report = reconcile(views)
        finance = {"statements": list_statements(views, STATEMENTS_SHOWN), "report": report,
                   "rows": report["rows"][:RECONCILIATION_ROWS_SHOWN],
                   "truncated": len(report["rows"]) > RECONCILIATION_ROWS_SHOWN}
    suspense = None
    if staff.may("read_suspense"):
        suspense = [{**row, "id_number": mask_id_number(row["id_number"])
                     if row["id_number"] else None}
                    for row in container.queries.suspense_items(status or None,
                                                                limit=SUSPENSE_ROWS_SHOWN)]
    return render(request, staff, "reconciliation.html", title="对账", batches=batches,
                  finance=finance, finance_status_zh=STATUS_ZH, suspense=suspense,
                  suspense_status=status, suspense_max=SUSPENSE_ROWS_SHOWN, labels=labels,
                  position=container.runner.position())


@router.get("/reconciliation/imports/{batch_id}", response_class=HTMLResponse)
def import_report(request: Request, staff: ImportReader,
                  batch_id: Annotated[str, Path(max_length=64)],
                  offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0) -> Response:
    """One import's reconciliation report (as GET /v1/imports/{batch}), a page of its lines."""
    report = batch_report(container_of(request).views, batch_id,
                          items_limit=REPORT_ITEMS_PER_PAGE, items_offset=offset)
    following = offset + REPORT_ITEMS_PER_PAGE
    return render(request, staff, "import_report.html", title="导入对账报告", report=report,
                  outcome_zh=OUTCOME_ZH, offset=offset,
                  previous_offset=max(offset - REPORT_ITEMS_PER_PAGE, 0) if offset else None,
                  next_offset=following if following < report["items_total"] else None)
