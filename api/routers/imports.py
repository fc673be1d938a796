"""Imports of tax collection files (税务征收明细): upload, list, and the reconciliation report
(JSON, CSV, XLSX) with the rejects file.

The upload is synchronous: the request returns when the file is imported (a job that a client
polls is future work). The file goes to disk in chunks under the region's data directory, never
whole into memory; the size limit is `UPLOAD_BYTES_MAX`."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.deps import ContainerDep, Importer, ImportReader, ReadPosition
from api.errors import ApiProblem, problem_responses
from api.schemas import (
    ImportBatchItem,
    ImportBatchPage,
    ImportReportView,
    ImportSummaryView,
)
from infra.bootstrap import Container
from infra.collection_file import sha256_of
from infra.collection_import import import_collections
from infra.reconciliation_report import (
    BATCHES_LIMIT_MAX,
    ITEMS_LIMIT_DEFAULT,
    ITEMS_LIMIT_MAX,
    batch_report,
    find_batch,
    list_batches,
    write_csv,
    write_xlsx,
)

UPLOAD_PATH = "/imports/collections"
UPLOAD_BYTES_MAX = 512 * 1024 * 1024  # ~2 M lines of CSV; a larger month is split
MULTIPART_OVERHEAD_BYTES_MAX = 64 * 1024  # boundaries, part headers, the encoding field
UPLOAD_CHUNK_BYTES = 1024 * 1024
FILE_NAME_LENGTH_MAX = 200
FILE_NAME_DEFAULT = "upload.csv"
ENCODING_LENGTH_MAX = 32
OFFSET_MAX = 10_000_000
IMPORTS_DIR = "imports"  # under the region's data directory: uploads in progress, rejects

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = APIRouter(prefix="/imports", tags=["imports"],
                   responses=problem_responses(401, 403, 422))

BatchKey = Annotated[str, Path(max_length=64, description="Batch id (UUID) or the sha256 "
                                                          "of the imported file.")]


def imports_dir(container: Container) -> FilePath:
    path = container.settings.region_dir / IMPORTS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def safe_file_name(name: str | None) -> str:
    """The client's file name without directories or control characters: it is recorded on
    the batch and names the temporary file."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip().lstrip(".")
    return base[-FILE_NAME_LENGTH_MAX:] or FILE_NAME_DEFAULT


def save_upload(upload: UploadFile, folder: FilePath, bytes_max: int | None = None,
                advice: str = "split the month into several files or import it with `shebao "
                              "import collections`") -> tuple[FilePath, str]:
    """Copy the upload to `folder` in chunks; its path and sha256. Over `bytes_max`: 413 with
    `advice` on what to do (default: this module's limit, read at call time)."""
    bytes_max = UPLOAD_BYTES_MAX if bytes_max is None else bytes_max
    path = folder / safe_file_name(upload.filename)
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as out:
        while chunk := upload.file.read(UPLOAD_CHUNK_BYTES):
            size += len(chunk)
            if size > bytes_max:
                raise ApiProblem(413, "upload_too_large",
                                 f"the file is over {bytes_max:,} bytes; {advice}", field="file")
            digest.update(chunk)
            out.write(chunk)
    return path, digest.hexdigest()


@router.post("/collections", status_code=201, response_model=ImportSummaryView,
             responses={200: {"model": ImportSummaryView,
                              "description": "The same file was imported before."},
                        **problem_responses(413)})
def upload_collections(
    principal: Importer, container: ContainerDep, response: Response,
    file: Annotated[UploadFile, File(description="Collection detail (实收明细): CSV (UTF-8, "
                                                 "GBK/GB18030, UTF-16) or XLSX.")],
    encoding: Annotated[str | None, Form(max_length=ENCODING_LENGTH_MAX, description=(
        "CSV encoding, e.g. gbk; default: detected."))] = None,
) -> ImportSummaryView:
    """Import a tax collection file: post matched person-months, hold the rest in suspense,
    write rejected lines to a rejects file (GET …/rejects.csv). The same file again (same
    sha256) writes nothing and answers 200 with the first import's summary. A fault of the
    whole file (a missing column, undecodable bytes) is 422 and records nothing."""
    folder = imports_dir(container)
    work = FilePath(tempfile.mkdtemp(prefix="upload-", dir=folder))
    try:
        path, digest = save_upload(file, work)
        summary = import_collections(
            container, path, encoding or None,
            rejects_path=folder / f"{digest}.rejects.csv",
            imported_by=f"api:{principal.username}", sha256=digest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if summary.already_imported:
        response.status_code = 200
    return ImportSummaryView.model_validate(summary.as_dict())


@router.get("", response_model=ImportBatchPage, responses=problem_responses(503))
def get_imports(principal: ImportReader, container: ContainerDep, position: ReadPosition,
                limit: Annotated[int, Query(ge=1, le=BATCHES_LIMIT_MAX)] = 100,
                offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0) -> ImportBatchPage:
    """Imported files, the latest first, each with its summary."""
    rows = list_batches(container.views, limit, offset)
    return ImportBatchPage(
        items=[ImportBatchItem.model_validate(row) for row in rows], limit=limit,
        offset=offset, next_offset=offset + limit if len(rows) == limit else None,
        position=position)


@router.get("/{batch_id}", response_model=ImportReportView, responses=problem_responses(404, 503))
def get_import_report(
    batch_id: BatchKey, principal: ImportReader, container: ContainerDep, position: ReadPosition,
    limit: Annotated[int, Query(ge=1, le=ITEMS_LIMIT_MAX)] = ITEMS_LIMIT_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
) -> ImportReportView:
    """The reconciliation report: the summary as imported, posted and suspense lines counted
    again from the ledger (with any difference spelled out), totals per employer, and a page of
    the lines that reached the ledger, each linked to its event (position, month or suspense
    item). ID numbers are masked."""
    report = batch_report(container.views, batch_id, items_limit=limit, items_offset=offset)
    items = report["items"]
    return ImportReportView.model_validate({
        **report, "limit": limit, "offset": offset, "position": position,
        "next_offset": offset + limit if offset + len(items) < report["items_total"] else None,
    })


def import_report_file(container: Container, batch_id: str, suffix: str
                       ) -> tuple[FilePath, str]:
    """The whole report as a CSV or XLSX file in a temporary path (the caller removes it once
    sent), and the name to download it as; also the console's download."""
    report = batch_report(container.views, batch_id, items_limit=None)
    handle, name = tempfile.mkstemp(prefix="report-", suffix=suffix, dir=imports_dir(container))
    os.close(handle)  # the writers open it by name
    path = FilePath(name)
    try:
        (write_csv if suffix == ".csv" else write_xlsx)(report, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, f"import-{report['batch']['sha256'][:12]}-report{suffix}"


@router.get("/{batch_id}/report.csv", response_class=FileResponse,
            responses={200: {"content": {CSV_MEDIA_TYPE: {}}}, **problem_responses(404, 503)})
def get_import_report_csv(batch_id: BatchKey, principal: ImportReader, container: ContainerDep,
                          position: ReadPosition) -> FileResponse:
    """Every line that reached the ledger, one row each, Chinese headers, UTF-8 with BOM."""
    path, filename = import_report_file(container, batch_id, ".csv")
    return FileResponse(path, media_type=CSV_MEDIA_TYPE, filename=filename,
                        background=BackgroundTask(path.unlink, missing_ok=True))


@router.get("/{batch_id}/report.xlsx", response_class=FileResponse,
            responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}, **problem_responses(404, 503)})
def get_import_report_xlsx(batch_id: BatchKey, principal: ImportReader, container: ContainerDep,
                           position: ReadPosition) -> FileResponse:
    """Sheets 汇总 (summary, per insurance, suspense reasons, per employer) and 明细 (lines)."""
    path, filename = import_report_file(container, batch_id, ".xlsx")
    return FileResponse(path, media_type=XLSX_MEDIA_TYPE, filename=filename,
                        background=BackgroundTask(path.unlink, missing_ok=True))


@router.get("/{batch_id}/rejects.csv", response_class=FileResponse,
            responses={200: {"content": {CSV_MEDIA_TYPE: {}}}, **problem_responses(404, 503)})
def get_import_rejects(batch_id: BatchKey, principal: ImportReader, container: ContainerDep,
                       position: ReadPosition) -> FileResponse:
    """The rejected lines as written at import (correct them and import that file). Served only
    while the stored file is the one the import recorded (same sha256)."""
    batch = find_batch(container.views, batch_id)
    expected = batch["rejects_sha256"]
    if expected is None:
        raise ApiProblem(404, "rejects_not_found",
                         "no line of this file was rejected (or its import has not completed)",
                         field="batch_id")
    summary = batch["summary"] or {}
    candidates = [imports_dir(container) / f"{batch['sha256']}.rejects.csv"]
    if summary.get("rejects_file"):
        candidates.append(FilePath(summary["rejects_file"]))
    for path in candidates:
        if path.is_file() and sha256_of(path) == expected:
            return FileResponse(path, media_type=CSV_MEDIA_TYPE,
                                filename=f"import-{batch['sha256'][:12]}-rejects.csv")
    raise ApiProblem(404, "rejects_file_missing",
                     "the rejects file recorded for this import is no longer on the server (or "
                     "was changed there); its lines are those the summary counts as rejected",
                     field="batch_id")
