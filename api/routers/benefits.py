"""Benefit payments of the insurances other than the pension (失业、医疗、工伤、生育待遇支付):
the upload of a payment-detail file that another system's payments are in, and the payments of
one person, a read of their record (X-Access-Reason, recorded in the access log).

The upload is synchronous and goes to disk in chunks (at most `UPLOAD_BYTES_MAX`); the file is
recorded whole or not at all (infra/benefit_payment_import.py)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field

from api.access import PersonReadDep
from api.deps import ContainerDep, Reader, ReadPosition, allowed
from api.errors import problem_responses
from api.routers.imports import ENCODING_LENGTH_MAX, OFFSET_MAX, imports_dir, save_upload
from api.schemas import PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, Page
from infra.access_log import PersonRef
from infra.benefit_payment_import import import_benefit_payments
from infra.benefit_payment_queries import person_benefit_payments
from infra.staff_service import Principal

UPLOAD_PATH = "/benefits/payment-files"
UPLOAD_BYTES_MAX = 64 * 1024 * 1024  # 200,000 lines of ~120 bytes is 24 MB
MULTIPART_OVERHEAD_BYTES_MAX = 64 * 1024

router = APIRouter(tags=["benefits"], responses=problem_responses(401, 403, 422))

BenefitImporter = Annotated[Principal, Depends(allowed("import_benefits"))]
IdNumberPath = Annotated[str, Path(max_length=32, description="Resident ID number.")]


class InsuranceAmount(BaseModel):
    payments: int
    amount_fen: int


class BenefitImportView(BaseModel):
    """What the import recorded."""

    file_name: str
    sha256: str
    lines: int
    paid: int = Field(description="Lines recorded by this upload.")
    already_paid: int = Field(description="Lines whose voucher was recorded before with the "
                                          "same details: not recorded again.")
    already_imported: bool = Field(description="Every line was recorded before: nothing "
                                               "changed.")
    amount_fen: int = Field(description="Recorded by this upload.")
    by_insurance: dict[str, InsuranceAmount] = Field(description="insurance → recorded now")
    first_paid_on: str | None
    last_paid_on: str | None
    position: int


class BenefitPaymentItem(BaseModel):
    insurance: str
    kind: str
    kind_name_zh: str
    period: str = Field(description="The month the benefit is for (所属期), YYYY-MM.")
    paid_on: str = Field(description="The day the paying system paid it (支付日期).")
    amount_fen: int
    voucher: str
    day: str = Field(description="The ledger day it was recorded (China Standard Time).")
    position: int


class BenefitPaymentsPage(Page):
    person_id: str
    payments: int = Field(description="Payments on record, all pages.")
    total_fen: int = Field(description="Their amount, all pages.")
    items: list[BenefitPaymentItem]


@router.post(UPLOAD_PATH, status_code=201, response_model=BenefitImportView,
             responses={200: {"model": BenefitImportView,
                              "description": "Every line was recorded before."},
                        **problem_responses(409, 413)})
def upload_benefit_payments(
    principal: BenefitImporter, container: ContainerDep, response: Response,
    file: Annotated[UploadFile, File(description="Benefit payment details (待遇支付明细) of "
                                                 "210, 310, 410, 510: CSV (UTF-8, GBK/GB18030) "
                                                 "or XLSX.")],
    encoding: Annotated[str | None, Form(max_length=ENCODING_LENGTH_MAX, description=(
        "CSV encoding, e.g. gbk; default: detected."))] = None,
) -> BenefitImportView:
    """Record every line of the file as a benefit payment, or none: a faulty line refuses the
    whole file (422 `benefit_file_refused`, naming the first faults; every faulty line is kept
    in `<data dir>/<region>/imports/<sha256>.benefit-errors.csv`). Lines recorded before (the
    same file again) are not recorded twice; when that is every line, 200 and nothing
    changed."""
    folder = imports_dir(container)
    work = FilePath(tempfile.mkdtemp(prefix="benefits-", dir=folder))
    try:
        path, digest = save_upload(file, work, UPLOAD_BYTES_MAX, "split the file by month")
        summary = import_benefit_payments(
            container, path, encoding or None,
            errors_path=folder / f"{digest}.benefit-errors.csv",
            imported_by=f"api:{principal.username}", sha256=digest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if summary.already_imported:
        response.status_code = 200
    return BenefitImportView.model_validate(summary.as_dict())


@router.get("/persons/{id_number}/benefit-payments", response_model=BenefitPaymentsPage,
            responses=problem_responses(400, 404, 503))
def get_person_benefit_payments(
    id_number: IdNumberPath, principal: Reader, access: PersonReadDep, container: ContainerDep,
    position: ReadPosition,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)] = PAGE_LIMIT_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
) -> BenefitPaymentsPage:
    """The person's benefit payments of 210, 310, 410 and 510 (失业、医疗、工伤、生育待遇), by
    the month paid for. Needs `X-Access-Reason`; the read is recorded."""
    person = container.ledger.person(id_number)
    person_id = str(person.id)
    found = person_benefit_payments(container, person_id, limit, offset)
    page = BenefitPaymentsPage(
        person_id=person_id, payments=found.payments, total_fen=found.total_fen,
        items=[BenefitPaymentItem.model_validate(item) for item in found.items], limit=limit,
        offset=offset, next_offset=offset + limit if len(found.items) == limit else None,
        position=position)
    access.record(PersonRef(person_id, person.id_number, person.name))
    return page
