"""Every error the API returns is an RFC 9457 problem (`application/problem+json`) with a stable
`code`, made here and nowhere else:

- domain errors map by class (ValidationFailed 422, NotFound 404, Conflict 409,
  PermissionDenied 403) and keep their code, message and field;
- the store's IntegrityError (a concurrent writer won) is 409 `concurrent_update`;
- request validation (pydantic) is 422 `request_invalid`, with `field` the dotted location of the
  first error and every error in `errors` (without the input: it may hold personal data);
- HTTP errors from routing (unknown route, wrong method) and anything unexpected (500)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson
from eventsourcing.persistence import IntegrityError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from domain.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:shebao:problem:"  # a URN: no host pretends to document the types

# Most specific class first: the first match wins.
DOMAIN_ERROR_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (ValidationFailed, 422),
    (NotFound, 404),
    (Conflict, 409),
    (PermissionDenied, 403),
)
# A bare DomainError names no class; these codes still have an obvious status.
DOMAIN_CODE_STATUS = {"concurrent_update": 409}
DOMAIN_STATUS_DEFAULT = 422

HTTP_STATUS_CODES = {
    400: "bad_request",
    404: "route_not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "body_too_large",
    415: "media_type_unsupported",
}
REQUEST_SOURCES = ("body", "query", "path", "header", "cookie")


class FieldError(BaseModel):
    field: str | None = Field(description="Dotted location, e.g. `lines.3.base_fen`.")
    type: str = Field(description="Validator error type, e.g. `int_type`.")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, plus a stable `code` and the `field` at fault."""

    type: str = Field(description="`urn:shebao:problem:<code>`", examples=[
        "urn:shebao:problem:id_number_check_digit"])
    title: str = Field(description="The HTTP status phrase.")
    status: int
    detail: str = Field(description="What went wrong and what to do.")
    code: str = Field(description="Stable machine-readable code.")
    field: str | None = Field(default=None, description="The request field at fault, if one.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[FieldError] | None = Field(
        default=None, description="Every validation error (code `request_invalid` only).")


class ApiProblem(Exception):
    """Raised by the API layer itself (auth, limits, lagging projections)."""

    def __init__(self, status: int, code: str, detail: str, *, field: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.headers = dict(headers or {})


class ProblemResponse(Response):
    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def problem(request: Request | None, status: int, code: str, detail: str, *,
            field: str | None = None, headers: Mapping[str, str] | None = None,
            errors: list[dict[str, Any]] | None = None) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "field": field,
        "instance": request.url.path if request is not None else None,
    }
    if errors is not None:
        body["errors"] = errors
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def domain_status(e: DomainError) -> int:
    for cls, status in DOMAIN_ERROR_STATUS:
        if isinstance(e, cls):
            return status
    return DOMAIN_CODE_STATUS.get(e.code, DOMAIN_STATUS_DEFAULT)


def dotted(loc: tuple[Any, ...] | list[Any]) -> str | None:
    parts = list(loc)
    if parts and parts[0] in REQUEST_SOURCES:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or None


# -- handlers ----------------------------------------------------------------------------------

def _api_problem(request: Request, e: Exception) -> Response:
    assert isinstance(e, ApiProblem)
    return problem(request, e.status, e.code, e.detail, field=e.field, headers=e.headers)


def _domain_error(request: Request, e: Exception) -> Response:
    assert isinstance(e, DomainError)
    return problem(request, domain_status(e), e.code, e.message, field=e.field)


def _integrity_error(request: Request, e: Exception) -> Response:
    return problem(request, 409, "concurrent_update",
                   "the records changed while this request ran; send it again")


def _request_invalid(request: Request, e: Exception) -> Response:
    assert isinstance(e, RequestValidationError)
    errors = [
        FieldError(
            field=None if err.get("type") == "json_invalid" else dotted(err.get("loc", ())),
            type=str(err.get("type", "")), message=str(err.get("msg", "")),
        )
        for err in e.errors()
    ] or [FieldError(field=None, type="unknown", message="the request is invalid")]
    first = errors[0]
    detail = first.message if first.field is None else f"{first.field}: {first.message}"
    return problem(request, 422, "request_invalid", detail, field=first.field,
                   errors=[error.model_dump() for error in errors])


def _http_error(request: Request, e: Exception) -> Response:
    assert isinstance(e, StarletteHTTPException)
    code = HTTP_STATUS_CODES.get(e.status_code, f"http_{e.status_code}")
    detail = e.detail if isinstance(e.detail, str) else HTTPStatus(e.status_code).phrase
    if e.status_code == 404 and detail == "Not Found":
        detail = f"no route {request.method} {request.url.path}; see /docs"
    return problem(request, e.status_code, code, detail, headers=e.headers)


def _unexpected(request: Request, e: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(request, 500, "internal_error",
                   "an unexpected error occurred and was logged; a command may be sent again "
                   "safely with the same Idempotency-Key")


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiProblem, _api_problem)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


# -- OpenAPI -----------------------------------------------------------------------------------

def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status documented as a Problem. Listing 422 here also
    replaces FastAPI's default validation-error schema, which this API never returns."""
    return {status: {"model": Problem, "description": HTTPStatus(status).phrase}
            for status in statuses}


def problems_as_problem_json(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents `responses` models as application/json; ours are problem+json."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if str(status)[0] in "45" and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    return schema
