"""Files to download from the console, as the API serves them and to the same roles: an import's
reconciliation report (CSV, XLSX), the finance special-account reconciliation (CSV, XLSX), and
a case's materials. The files are made by the API's own code (api/routers/imports.py,
finance.py; the case service's blob store); only the session replaces the bearer token."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from api.console.web import PREFIX, ConsoleRoute, Staff, container_of, page_for, read_of_person
from api.errors import ApiProblem
from api.routers.finance import reconciliation_file
from api.routers.imports import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, import_report_file
from domain.errors import NotFound
from infra.access_log import PersonRef
from infra.blob_store import BlobCorrupted
from infra.case_service import CaseService
from infra.finance_reconciliation import reconcile

# What a stored material is saved as (infra/blob_store.py MEDIA_TYPES are the types accepted).
MATERIAL_SUFFIXES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png",
                     "image/tiff": ".tif"}
MEDIA_TYPES = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

ImportReader = Annotated[Staff, Depends(page_for("read_imports"))]
FinanceReader = Annotated[Staff, Depends(page_for("read_finance"))]
CaseReader = Annotated[Staff, Depends(page_for("read_cases"))]
Format = Literal["csv", "xlsx"]


@router.get("/reconciliation/imports/{batch_id}/report.{file_format}")
def import_report(request: Request, staff: ImportReader,
                  batch_id: Annotated[str, Path(max_length=64)],
                  file_format: Format) -> FileResponse:
    """Every line of the import that reached the ledger, Chinese headers (as
    GET /v1/imports/{batch}/report.csv and .xlsx; ID numbers masked)."""
    path, filename = import_report_file(container_of(request), batch_id, f".{file_format}")
    return FileResponse(path, media_type=MEDIA_TYPES[file_format], filename=filename,
                        background=BackgroundTask(path.unlink, missing_ok=True))


@router.get("/reconciliation/finance.{file_format}")
def finance_reconciliation(request: Request, staff: FinanceReader,
                           file_format: Format) -> FileResponse:
    """The special-account statement against the ledger per month and insurance, every row
    and the totals: what the 对账 page shows (as GET /v1/finance/reconciliation.csv)."""
    container = container_of(request)
    path = reconciliation_file(container, reconcile(container.views), f".{file_format}")
    return FileResponse(path, media_type=MEDIA_TYPES[file_format],
                        filename=f"finance-reconciliation.{file_format}",
                        background=BackgroundTask(path.unlink, missing_ok=True))


@router.get("/cases/{case_id}/materials/{sha256}")
def case_material(request: Request, staff: CaseReader,
                  case_id: Annotated[str, Path(max_length=64)],
                  sha256: Annotated[str, Path(max_length=64)]) -> StreamingResponse:
    """A material as stored, after checking the file against its sha256 (a changed file is
    never served), as GET /v1/cases/{id}/materials/{sha256}. For a person's case this is a read
    of their record: it needs the session's reason and is recorded (a scan cannot be masked)."""
    service = CaseService(container_of(request))
    case = service.case(case_id)
    media_type = case.media_types.get(sha256)
    if media_type is None:
        raise NotFound("material_not_found", f"{sha256} is not a material of this case",
                       field="sha256")
    applicant = case.applicant
    access = read_of_person(request, staff) if applicant.get("id_number") else None
    try:
        chunks = service.blobs.read(sha256)
    except BlobCorrupted as e:
        raise ApiProblem(500, "material_corrupted", str(e)) from e
    if access is not None:
        access.record(PersonRef(str(applicant["person_id"]), str(applicant["id_number"]),
                                str(applicant.get("name") or "")), target=f"{case_id}/{sha256}")
    material_code = next(code for code, hashes in case.attached.items() if sha256 in hashes)
    filename = f"{material_code}-{sha256[:12]}{MATERIAL_SUFFIXES.get(media_type, '')}"
    return StreamingResponse(chunks, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "X-Content-SHA256": sha256})
