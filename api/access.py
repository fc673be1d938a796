"""Reads of a person's record through the API (查询留痕) and masking by role.

A route that returns one person's record takes the `PersonReadDep` dependency (or
`PersonReadWhenNeeded`, when only some of its inputs are a person's record): the request must
name why (`X-Access-Reason: <code>` from domain/policy_data/access.toml, and `X-Access-Note`
where the reason needs one), else 400 and nothing is read. The route builds its response, then
calls `access.record(person)`: the read is recorded as an event before the data goes out; when
that fails, the request fails and nothing is returned.

Masking: one rule (`clear_roles` in access.toml) says which roles see ID numbers, names and birth
dates in clear; every person-returning route and list applies it through the helpers here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import Depends, Header, Request, Response

from api.deps import (
    BearerCredentials,
    ContainerDep,
    allowed_check,
    authenticated,
    container_of,
    current_principal,
)
from api.errors import ApiProblem
from domain.access_policy import AccessPolicy
from domain.access_record import NOTE_LENGTH_MAX
from domain.identity import mask_id_number, mask_name
from infra.access_log import AccessLog, AccessRequest, PersonRef
from infra.staff_service import Principal

REASON_HEADER = "X-Access-Reason"
NOTE_HEADER = "X-Access-Note"
REQUEST_ID_HEADER = "X-Request-Id"
# Before decoding: a character percent-encoded takes up to 12 (%F0%9F%98%80).
NOTE_HEADER_LENGTH_MAX = NOTE_LENGTH_MAX * 12
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


async def access_policy(container: ContainerDep) -> AccessPolicy:
    return container.access_log.policy


PolicyDep = Annotated[AccessPolicy, Depends(access_policy)]


def sees_clear(policy: AccessPolicy, principal: Principal) -> bool:
    return policy.sees_clear(principal.roles)


class PersonRead:
    """A read of one person's record that may go ahead: why, by whom, through which route.
    `clear` says whether the reader sees personal data in clear."""

    def __init__(self, log: AccessLog, request: AccessRequest, resource: str,
                 clear: bool) -> None:
        self.log = log
        self.request = request
        self.resource = resource
        self.clear = clear

    def record(self, *persons: PersonRef, target: str = "") -> None:
        """Record the read of these persons' records (one event each, one transaction)."""
        if persons:
            self.log.record(self.request, self.resource, persons, target)


def _note(raw: str | None) -> str:
    """The note as sent: percent-encoded UTF-8 (`%E6%8A%95…`, the way to send Chinese in a
    header), or raw UTF-8 bytes (which the server sees as Latin-1 and decodes again)."""
    if not raw:
        return ""
    try:
        text = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        text = raw
    try:
        text = unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise ApiProblem(400, "access_note_malformed",
                         f"{NOTE_HEADER} is not UTF-8; send it percent-encoded "
                         "(encodeURIComponent)", field=NOTE_HEADER) from None
    text = _CONTROL_CHARS.sub(" ", text).strip()
    if len(text) > NOTE_LENGTH_MAX:
        raise ApiProblem(400, "access_note_too_long",
                         f"{NOTE_HEADER} has {len(text)} characters; at most {NOTE_LENGTH_MAX}",
                         field=NOTE_HEADER)
    return text


ReasonHeader = Annotated[str | None, Header(
    alias=REASON_HEADER,
    description="Why this person's record is read (查询事由): a code of "
                "domain/policy_data/access.toml, e.g. `counter_service` (柜面业务办理). "
                "Required: a read without it is 400 and nothing is read.")]
NoteHeader = Annotated[str | None, Header(
    alias=NOTE_HEADER,
    description=f"A note to the reason (at most {NOTE_LENGTH_MAX} characters, percent-encoded "
                "UTF-8), e.g. the complaint number; required by some reasons.")]
RequestIdHeader = Annotated[str | None, Header(
    alias=REQUEST_ID_HEADER,
    description="The client's id of this request (1-64 of A-Z a-z 0-9 . _ : -), recorded with "
                "the read; one is made when absent. Echoed in the response.")]
PrincipalDep = Annotated[Principal, Depends(current_principal)]


def person_read(request: Request, response: Response, container: ContainerDep,
                policy: PolicyDep, principal: PrincipalDep, reason_code: ReasonHeader = None,
                note: NoteHeader = None, request_id: RequestIdHeader = None) -> PersonRead:
    """For a route that always returns a person's record: checks the reason before anything
    is read; the route records the read."""
    return _grant(request, response, container.access_log, policy, principal, reason_code, note,
                  request_id)


async def person_read_dependency(
    request: Request, response: Response, container: ContainerDep, policy: PolicyDep,
    principal: PrincipalDep, reason_code: ReasonHeader = None, note: NoteHeader = None,
    request_id: RequestIdHeader = None,
) -> PersonRead:
    """`person_read` as a route's dependency: no I/O, so on the event loop (api/deps.py)."""
    return person_read(request, response, container, policy, principal, reason_code, note,
                       request_id)


async def person_read_when_needed(
    request: Request, response: Response, container: ContainerDep, policy: PolicyDep,
    principal: PrincipalDep, reason_code: ReasonHeader = None, note: NoteHeader = None,
    request_id: RequestIdHeader = None,
) -> Callable[[], PersonRead]:
    """For a route that returns a person's record for some inputs only (the trace of a
    personal account, not of a fund): it calls the result, which checks the reason, once it
    knows that it will read one, before reading."""
    return partial(_grant, request, response, container.access_log, policy, principal,
                   reason_code, note, request_id)


def person_read_by(action: str) -> Callable[..., Awaitable[PersonRead]]:
    """`PersonReadDep` for a route on the hot path (the statements), with the authentication
    and the role check of `action` in the same dependency instead of three: FastAPI solves
    each dependency (and again the subtree of each use of a shared one) per request, which
    was 14% of a statement read's CPU in a worker (py-spy --gil, README "Performance")."""
    check = allowed_check(action)

    async def dependency(request: Request, response: Response, credentials: BearerCredentials,
                         reason_code: ReasonHeader = None, note: NoteHeader = None,
                         request_id: RequestIdHeader = None) -> PersonRead:
        container = container_of(request)
        principal = check(await authenticated(container, credentials))
        log = container.access_log
        return _grant(request, response, log, log.policy, principal, reason_code, note,
                      request_id)

    return dependency


def _grant(request: Request, response: Response, log: AccessLog, policy: AccessPolicy,
           principal: Principal, reason_code: str | None, note: str | None,
           request_id: str | None) -> PersonRead:
    if reason_code is None or not reason_code.strip():
        raise ApiProblem(400, "access_reason_missing",
                         f"reading a person's record needs the header {REASON_HEADER}: <code> "
                         f"saying why (查询事由); valid codes: {policy.describe_reasons()}",
                         field=REASON_HEADER)
    reason = policy.reasons.get(reason_code.strip())
    if reason is None:
        raise ApiProblem(400, "access_reason_unknown",
                         f"{REASON_HEADER} {reason_code.strip()[:40]!r} is not a known reason; "
                         f"valid codes: {policy.describe_reasons()}", field=REASON_HEADER)
    if note is not None and len(note) > NOTE_HEADER_LENGTH_MAX:
        raise ApiProblem(400, "access_note_too_long",
                         f"{NOTE_HEADER} is over {NOTE_HEADER_LENGTH_MAX} bytes; at most "
                         f"{NOTE_LENGTH_MAX} characters", field=NOTE_HEADER)
    text = _note(note)
    if reason.note_required and not text:
        raise ApiProblem(400, "access_note_missing",
                         f"reason {reason.code} ({reason.name_zh}) needs {NOTE_HEADER} with "
                         "e.g. the complaint or letter number", field=NOTE_HEADER)
    if request_id is not None and not REQUEST_ID_PATTERN.match(request_id):
        raise ApiProblem(400, "request_id_malformed",
                         f"{REQUEST_ID_HEADER}: 1-64 characters of A-Z a-z 0-9 . _ : -",
                         field=REQUEST_ID_HEADER)
    request_id = request_id or uuid.uuid4().hex
    response.headers[REQUEST_ID_HEADER] = request_id
    return PersonRead(
        log, AccessRequest(principal.username, principal.roles, reason, text, request_id),
        f"{request.method} {route_template(request)}", sees_clear(policy, principal))


def route_template(request: Request) -> str:
    """The matched route as a template, with the prefix it was included under:
    `/v1/persons/{id_number}/account` — never the concrete path, which holds the ID number."""
    template = getattr(request.scope.get("route"), "path", None)
    assert isinstance(template, str), "a person read is always served by a route"
    # The route knows its own router's prefix, not the one the app included it under (/v1):
    # take that from the concrete path, segment for segment (no path parameter holds a '/').
    included = request.url.path.split("/")[: -(template.count("/"))]
    return "/".join(included) + template


PersonReadDep = Annotated[PersonRead, Depends(person_read_dependency)]
PersonReadWhenNeeded = Annotated[Callable[[], PersonRead], Depends(person_read_when_needed)]


# -- masking -------------------------------------------------------------------------------------

def masked(row: Mapping[str, Any], id_number_keys: Iterable[str] = (),
           name_keys: Iterable[str] = (), hidden_keys: Iterable[str] = ()) -> dict[str, Any]:
    """A copy of `row` with ID numbers and names masked and `hidden_keys` set to None (e.g. the
    birth date, which with a masked ID number would give the whole number back)."""
    found = dict(row)
    for key in id_number_keys:
        if found.get(key):
            found[key] = mask_id_number(str(found[key]))
    for key in name_keys:
        if found.get(key):
            found[key] = mask_name(str(found[key]))
    for key in hidden_keys:
        if key in found:
            found[key] = None
    return found


def masked_case(row: Mapping[str, Any]) -> dict[str, Any]:
    """A case list row or archive view with the applicant's ID number and name masked, also
    inside the timeline (the opening event holds the applicant and the items' payloads)."""
    found = masked(row, ("applicant_id_number",), ("applicant_name",))
    if "timeline" in found:
        found["timeline"] = [{**t, "detail": _masked_case_detail(t["detail"])}
                             for t in found["timeline"]]
    return found


def _masked_case_detail(detail: Any) -> Any:
    if not isinstance(detail, dict):
        return detail
    found = dict(detail)
    if isinstance(found.get("applicant"), dict):
        found["applicant"] = masked(found["applicant"], ("id_number",), ("name",))
    if isinstance(found.get("items"), list):
        found["items"] = [
            {**item, "payload": _masked_payload(item["payload"])}
            if isinstance(item, dict) and isinstance(item.get("payload"), dict) else item
            for item in found["items"]]
    return found


ID_NUMBER_KEYS = frozenset({"id_number", "applicant_id_number", "assigned_id_number"})
NAME_KEYS = frozenset({"name", "applicant_name"})
HIDDEN_KEYS = frozenset({"birth_date"})


def masked_deep(value: Any) -> Any:
    """Any stored event state (or part of one) with every ID number and person name masked
    and the birth date hidden, at any depth: for views that show events as stored (an alert's
    linked events) to roles that see personal data masked. An employer's name is masked too:
    the keys do not say whose name it is, and masking more is the safe side."""
    if isinstance(value, dict):
        found: dict[str, Any] = {}
        for key, item in value.items():
            if key in ID_NUMBER_KEYS and isinstance(item, str) and item:
                found[key] = mask_id_number(item)
            elif key in NAME_KEYS and isinstance(item, str) and item:
                found[key] = mask_name(item)
            elif key in HIDDEN_KEYS:
                found[key] = None
            else:
                found[key] = masked_deep(item)
        return found
    if isinstance(value, list):
        return [masked_deep(item) for item in value]
    return value


def _masked_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """A person's ID number and name in an item's payload; an employer's name stays."""
    if "id_number" not in payload:
        return payload
    return masked(payload, ("id_number",), ("name",))


def person_refs(region_code: str, id_numbers: Sequence[str | None]) -> list[PersonRef]:
    """The distinct persons of these ID numbers (None and repeats left out)."""
    seen: dict[str, PersonRef] = {}
    for number in id_numbers:
        if number and number not in seen:
            seen[number] = PersonRef.of_id_number(region_code, number)
    return list(seen.values())
