"""年度报告: the region's annual report for a year — its figures and charts inside the console,
the report's own self-contained HTML page, and its XLSX workbook; all from
infra/annual_report_queries.py `annual_report` and its renderers, as GET /v1/reports/annual/…"""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.console.web import PREFIX, ConsoleRoute, Staff, container_of, page_for, render
from api.routers.imports import XLSX_MEDIA_TYPE
from domain.annual_targets import YEAR_MAX, YEAR_MIN
from infra.annual_report_html import charts, render_html
from infra.annual_report_queries import annual_report
from infra.annual_report_xlsx import write_xlsx
from infra.case_service import business_today

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

Reader = Annotated[Staff, Depends(page_for("read_annual_report"))]
YearPath = Annotated[int, Path(ge=YEAR_MIN, le=YEAR_MAX)]


@router.get("/report", response_class=HTMLResponse)
def report(request: Request, staff: Reader,
           year: Annotated[int | None, Query(ge=YEAR_MIN, le=YEAR_MAX)] = None) -> Response:
    """Default: the year before this one — the year-end report is written after the year."""
    shown = year if year is not None else business_today().year - 1
    found = annual_report(container_of(request), shown)
    return render(request, staff, "report.html", title="年度报告", report=found,
                  charts=charts(found), year=shown, year_min=YEAR_MIN, year_max=YEAR_MAX)


@router.get("/report/{year}.html", response_class=HTMLResponse)
def report_page(request: Request, year: YearPath, staff: Reader) -> Response:
    """The report's own page (to print, mail or archive), as the API serves it."""
    return HTMLResponse(render_html(annual_report(container_of(request), year)))


@router.get("/report/{year}.xlsx")
def report_workbook(request: Request, year: YearPath, staff: Reader) -> Response:
    buffer = io.BytesIO()
    write_xlsx(annual_report(container_of(request), year), buffer)
    return Response(buffer.getvalue(), media_type=XLSX_MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="annual-report-{year}.xlsx"'})
