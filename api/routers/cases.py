"""Counter business (综合柜员制): the catalogue, cases from acceptance to completion with their
sign-offs, materials (uploaded, content-addressed, hash-checked on download), queues, the
archive view of a case and of a person (业务档案), ratings, the counter's figures, and the
authorisation register."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.access import REQUEST_ID_HEADER, PersonReadDep, PolicyDep, masked_case, sees_clear
from api.deps import ContainerDep, IdempotencyKey, ReadPosition, allowed, require_roles
from api.errors import ApiProblem, problem_responses
from api.schemas import CommandResponse, IdNumber, Request, command_response
from infra.access_log import PersonRef
from infra.blob_store import BLOB_BYTES_MAX, BlobCorrupted
from infra.case_queries import case_queue, case_report, case_view, person_cases
from infra.case_service import Actor, CaseService, business_today
from infra.catalogue_loader import default_calendar, default_catalogue
from infra.staff_service import Principal

MATERIALS_SUFFIX = "/materials"
MULTIPART_OVERHEAD_BYTES_MAX = 64 * 1024
PAGE_LIMIT_MAX = 500

router = APIRouter(tags=["cases"], responses=problem_responses(401, 403, 422))

Teller = Annotated[Principal, Depends(require_roles("teller"))]
Signer = Annotated[Principal, Depends(allowed("sign_cases"))]
CaseReader = Annotated[Principal, Depends(allowed("read_cases"))]
ReportReader = Annotated[Principal, Depends(require_roles(
    "reviewer", "deputy_director", "director", "auditor"))]
Admin = Annotated[Principal, Depends(require_roles())]
CaseId = Annotated[str, Path(max_length=64, description="The case id.")]
Text = Annotated[str, Field(max_length=500)]


def _actor(principal: Principal) -> Actor:
    return Actor(principal.username, list(principal.roles))


def _service(container: Any) -> CaseService:
    return CaseService(container)


class CaseOpening(Request):
    code: Annotated[str, Field(max_length=64, description="A catalogue item or bundle code.")]
    payloads: dict[str, dict[str, Any]] = Field(
        description="Item code → the fields of its effect (see GET /v1/catalogue).")
    applicant_name: Annotated[str, Field(max_length=200)] = ""


class CaseSignature(Request):
    comment: Text = ""


class CaseReason(Request):
    reason: Text


class CaseRating(Request):
    score: Annotated[int, Field(strict=True, ge=1, le=5, description="1 非常不满意 … 5 非常满意")]
    comment: Text = ""


class AuthorisationChange(Request):
    grant: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list,
                                                               max_length=100)
    revoke: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list,
                                                                max_length=100)
    reason: Text


class CaseState(BaseModel):
    case_id: str
    code: str
    status: str = Field(json_schema_extra={"enum": ["open", "completed", "rejected",
                                                    "withdrawn"]})
    risk_level: int
    opened_by: str
    opened_on: str
    deadline: str
    next_step: str | None
    next_roles: list[str]
    signatures: list[dict[str, Any]]
    missing_materials: list[str]
    rating: int | None
    sha256: str | None = None
    size_bytes: int | None = None
    media_type: str | None = None


class CaseListItem(BaseModel):
    case_id: str
    code: str
    name_zh: str
    risk_level: int
    mode: str
    status: str
    opened_by: str
    opened_on: str
    deadline: str
    applicant_id_number: str | None
    applicant_credit_code: str | None
    person_id: str | None
    applicant_name: str | None
    signed_steps: int
    next_step: str | None
    next_roles: list[str]
    completed_on: str | None
    closed_by: str | None
    rating: int | None
    due_today: bool
    overdue: bool


class CasePage(BaseModel):
    items: list[CaseListItem]
    limit: int
    offset: int
    position: int


class CaseArchive(CaseListItem):
    steps: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    signatures: list[dict[str, Any]]
    materials: list[dict[str, Any]]
    effects: list[dict[str, Any]] = Field(description="Events the completion produced.")
    position: int


@router.get("/catalogue", responses=problem_responses())
def get_catalogue(principal: CaseReader) -> dict[str, Any]:
    """Business items (code, name, category, risk level, deadline, materials, steps, effect)
    and bundles (打包一件事)."""
    catalogue = default_catalogue()
    return {"items": [it.as_dict() for it in catalogue.items.values()],
            "bundles": [{"code": b.code, "name_zh": b.name_zh, "items": list(b.items)}
                        for b in catalogue.bundles.values()]}


@router.post("/cases", status_code=201, response_model=CommandResponse[CaseState],
             responses=problem_responses(404, 409))
def open_case(body: CaseOpening, principal: Teller, container: ContainerDep,
              idempotency_key: IdempotencyKey = None) -> CommandResponse[CaseState]:
    """Accept a case (受理). The teller must be authorised for every item; the effects are tried
    at once (nothing saved) so that a case that cannot take effect is refused here."""
    done = _service(container).open(body.code, body.payloads, _actor(principal),
                                    body.applicant_name, idempotency_key=idempotency_key)
    return command_response(CaseState, done)


@router.post("/cases/{case_id}" + MATERIALS_SUFFIX, status_code=201,
             response_model=CommandResponse[CaseState], responses=problem_responses(404, 409, 413))
def attach_material(
    case_id: CaseId, principal: Teller, container: ContainerDep,
    material_code: Annotated[str, Form(max_length=64)],
    file: Annotated[UploadFile, File(description=f"PDF, JPEG, PNG or TIFF, at most "
                                                 f"{BLOB_BYTES_MAX // (1024 * 1024)} MiB.")],
    idempotency_key: IdempotencyKey = None,
) -> CommandResponse[CaseState]:
    """Upload a material (stored once by its sha256) and record it on the case."""
    done = _service(container).attach(case_id, material_code, file.file, file.filename or "",
                                      _actor(principal), idempotency_key)
    return command_response(CaseState, done)


@router.get("/cases/{case_id}/materials/{sha256}", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}},
                       **problem_responses(400, 404, 500)})
def download_material(case_id: CaseId, sha256: Annotated[str, Path(max_length=64)],
                      principal: CaseReader, access: PersonReadDep, container: ContainerDep,
                      ) -> StreamingResponse:
    """A material of the case, after checking the stored file against its sha256 (a changed
    file is 500 `material_corrupted`, never served). Needs `X-Access-Reason`; the read of a
    person's material is recorded (a scan cannot be masked: it is served as stored)."""
    service = _service(container)
    case = service.case(case_id)
    media_type = case.media_types.get(sha256)
    if media_type is None:
        raise ApiProblem(404, "material_not_found", f"{sha256} is not a material of this case",
                         field="sha256")
    try:
        chunks: Iterator[bytes] = service.blobs.read(sha256)
    except BlobCorrupted as e:
        raise ApiProblem(500, "material_corrupted", str(e)) from e
    if case.applicant.get("id_number"):
        access.record(_applicant_ref(case.applicant), target=f"{case_id}/{sha256}")
    return StreamingResponse(chunks, media_type=media_type, headers={
        "X-Content-SHA256": sha256, REQUEST_ID_HEADER: access.request.request_id})


@router.post("/cases/{case_id}/signatures", status_code=201,
             response_model=CommandResponse[CaseState], responses=problem_responses(404, 409))
def sign_case(case_id: CaseId, body: CaseSignature, principal: Signer, container: ContainerDep,
              idempotency_key: IdempotencyKey = None) -> CommandResponse[CaseState]:
    """Sign the case's current step (复核 / 副主任审核 / 主任审批). The last signature completes the
    case: its effects are saved with the completion in one transaction."""
    done = _service(container).sign(case_id, _actor(principal), body.comment,
                                    idempotency_key=idempotency_key)
    return command_response(CaseState, done)


@router.post("/cases/{case_id}/completion", status_code=201,
             response_model=CommandResponse[CaseState], responses=problem_responses(404, 409))
def complete_case(case_id: CaseId, principal: Teller, container: ContainerDep,
                  idempotency_key: IdempotencyKey = None) -> CommandResponse[CaseState]:
    """Level 3: the teller who accepted the case completes it (即时办结)."""
    done = _service(container).complete(case_id, _actor(principal),
                                        idempotency_key=idempotency_key)
    return command_response(CaseState, done)


@router.post("/cases/{case_id}/rejection", status_code=201,
             response_model=CommandResponse[CaseState], responses=problem_responses(404, 409))
def reject_case(case_id: CaseId, body: CaseReason, principal: Signer, container: ContainerDep,
                idempotency_key: IdempotencyKey = None) -> CommandResponse[CaseState]:
    done = _service(container).reject(case_id, _actor(principal), body.reason, idempotency_key)
    return command_response(CaseState, done)


@router.post("/cases/{case_id}/withdrawal", status_code=201,
             response_model=CommandResponse[CaseState], responses=problem_responses(404, 409))
def withdraw_case(case_id: CaseId, body: CaseReason, principal: Teller, container: ContainerDep,
                  idempotency_key: IdempotencyKey = None) -> CommandResponse[CaseState]:
    done = _service(container).withdraw(case_id, _actor(principal), body.reason,
                                        idempotency_key)
    return command_response(CaseState, done)


@router.post("/cases/{case_id}/rating", status_code=201,
             response_model=CommandResponse[CaseState], responses=problem_responses(404, 409))
def rate_case(case_id: CaseId, body: CaseRating, principal: Teller, container: ContainerDep,
              idempotency_key: IdempotencyKey = None) -> CommandResponse[CaseState]:
    """The applicant's rating (好差评) from the counter's rating pad, once per completed case."""
    done = _service(container).rate(case_id, body.score, body.comment, _actor(principal),
                                    idempotency_key)
    return command_response(CaseState, done)


@router.get("/cases", response_model=CasePage, responses=problem_responses(503))
def list_cases(
    principal: CaseReader, container: ContainerDep, position: ReadPosition, policy: PolicyDep,
    scope: Annotated[Literal["to_sign", "mine", "open", "all"], Query(
        description="to_sign: cases waiting for a role of yours; mine: cases you accepted; "
                    "open; all.")] = "to_sign",
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> CasePage:
    """A queue, oldest deadline first, with `due_today` and `overdue` flags; applicants' ID
    numbers and names masked for roles that do not see personal data in clear."""
    rows = case_queue(container.views, scope, principal.username, list(principal.roles),
                      business_today(), limit, offset)
    if not sees_clear(policy, principal):
        rows = [masked_case(r) for r in rows]
    return CasePage(items=[CaseListItem.model_validate(r) for r in rows], limit=limit,
                    offset=offset, position=position)


@router.get("/cases/report", responses=problem_responses(503))
def get_case_report(
    principal: ReportReader, container: ContainerDep, position: ReadPosition,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Per item: opened, completed, instant-completion rate (completed the day accepted),
    average handling time in working days, overdue; per teller: cases, overdue, ratings."""
    report = case_report(container.views, default_calendar(), business_today(),
                         start.isoformat() if start else None, end.isoformat() if end else None)
    return {**report, "position": position}


@router.get("/cases/{case_id}", response_model=CaseArchive,
            responses=problem_responses(400, 404, 503))
def get_case(case_id: CaseId, principal: CaseReader, access: PersonReadDep,
             container: ContainerDep, position: ReadPosition) -> CaseArchive:
    """The archive view: state, timeline (who did what, when), signatures, materials and the
    events the completion produced. Needs `X-Access-Reason`; the read of a person's case is
    recorded, and the applicant masked for roles that do not see personal data in clear."""
    found = case_view(container.views, case_id, business_today())
    if found is None:
        raise ApiProblem(404, "case_not_found", f"no case {case_id} (as of position {position})",
                         field="case_id")
    view = CaseArchive.model_validate({**(found if access.clear else masked_case(found)),
                                       "position": position})
    if found["applicant_id_number"]:
        access.record(PersonRef(found["person_id"], found["applicant_id_number"],
                                found["applicant_name"] or ""), target=case_id)
    return view


@router.get("/persons/{id_number}/cases", response_model=CasePage,
            responses=problem_responses(400, 503))
def get_person_cases(id_number: IdNumber, principal: CaseReader, access: PersonReadDep,
                     container: ContainerDep, position: ReadPosition) -> CasePage:
    """A person's business archive (业务档案): every case for them. Needs `X-Access-Reason`
    (the read is recorded); masked for roles that do not see personal data in clear."""
    person = PersonRef.of_id_number(container.settings.region_code, id_number)
    rows = person_cases(container.views, person.person_id, business_today())
    view = CasePage(items=[CaseListItem.model_validate(r if access.clear else masked_case(r))
                           for r in rows], limit=len(rows), offset=0, position=position)
    access.record(person)
    return view


def _applicant_ref(applicant: dict[str, Any]) -> PersonRef:
    return PersonRef(str(applicant["person_id"]), str(applicant["id_number"]),
                     str(applicant.get("name") or ""))


@router.put("/authorisations/{username}", responses=problem_responses(404))
def change_authorisation(username: Annotated[str, Path(max_length=100)],
                         body: AuthorisationChange, principal: Admin, container: ContainerDep,
                         ) -> dict[str, Any]:
    """Grant and revoke the items a teller may accept (admin); recorded with who and why."""
    done = _service(container).change_authorisation(username, body.grant, body.revoke,
                                                    principal.username, body.reason)
    return {"result": done.result, "position": done.position, "replayed": done.replayed}


@router.get("/authorisations/{username}", responses=problem_responses())
def get_authorisation(username: Annotated[str, Path(max_length=100)], principal: CaseReader,
                      container: ContainerDep) -> dict[str, Any]:
    register = _service(container).authorisation(username)
    return {"username": username,
            "item_codes": sorted(register.item_codes) if register else []}
