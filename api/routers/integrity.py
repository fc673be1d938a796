"""Integrity of the log: publish a signed digest of the hash chain (admin), list and export the
digests (auditors keep them outside), and verify the stored events against the chain and any
digests (auditors). Verification reads the whole log: it runs in the request."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from api.deps import ContainerDep, require_roles
from api.errors import problem_responses
from api.schemas import Request
from infra.integrity import load_signing_key, publish_digest, recorded_digests, verify
from infra.staff_service import Principal

router = APIRouter(prefix="/integrity", tags=["integrity"],
                   responses=problem_responses(401, 403, 422))

Admin = Annotated[Principal, Depends(require_roles())]
Auditor = Annotated[Principal, Depends(require_roles("auditor", "director"))]
DIGESTS_PER_REQUEST_MAX = 10_000


class DigestEntry(BaseModel):
    region_code: str
    position: int
    head_hash: str
    published_at: str
    public_key: str
    signature: str


class VerificationRequest(Request):
    digests: list[DigestEntry] | None = Field(
        default=None, max_length=DIGESTS_PER_REQUEST_MAX,
        description="Digests kept outside the system; default: those recorded in the log.")
    public_key: str | None = Field(default=None, max_length=100, description=(
        "Trusted public key (base64); default SHEBAO_VERIFY_KEY, else each digest's own."))


@router.post("/digests", status_code=201, response_model=DigestEntry,
             responses=problem_responses())
def publish(principal: Admin, container: ContainerDep) -> DigestEntry:
    """Chain the log to its head and publish a signed digest (needs SHEBAO_SIGNING_KEY)."""
    key = load_signing_key(container.settings.signing_key)
    return DigestEntry.model_validate(publish_digest(container.store, container.runner.chain,
                                                     key))


@router.get("/digests", response_model=list[DigestEntry])
def list_digests(principal: Auditor, container: ContainerDep) -> list[DigestEntry]:
    container.runner.catch_up()
    return [DigestEntry.model_validate(e) for e in recorded_digests(container.views)]


@router.get("/digests.jsonl", response_class=Response,
            responses={200: {"content": {"application/x-ndjson": {}}}})
def export(principal: Auditor, container: ContainerDep) -> Response:
    """Every digest as JSON lines: the file `shebao verify --digest` reads."""
    container.runner.catch_up()
    body = b"".join(orjson.dumps(e, option=orjson.OPT_SORT_KEYS) + b"\n"
                    for e in recorded_digests(container.views))
    return Response(body, media_type="application/x-ndjson", headers={
        "Content-Disposition": 'attachment; filename="digests.jsonl"'})


@router.post("/verification", responses=problem_responses())
def run_verification(body: VerificationRequest, principal: Auditor,
                     container: ContainerDep) -> dict[str, Any]:
    """Recompute the chain from the stored events: `status` ok or tampered, every edited,
    deleted or inserted position, and each digest's verdict (ok, contradicted,
    signature_invalid, position_missing)."""
    entries = [d.model_dump() for d in body.digests] if body.digests is not None else None
    result = verify(container.store, container.runner.chain, entries,
                    body.public_key or container.settings.verify_key)
    return result.as_dict()
