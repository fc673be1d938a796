"""Errors a user can cause. Each has a stable `code` (used in problem+json), a message that says
what to do, and optionally the `field` at fault. The API maps the classes to HTTP statuses."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a refused command. Nothing was written."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    """The input is malformed or breaks a business rule (HTTP 422)."""


class NotFound(DomainError):
    """The thing referred to does not exist in this region's store (HTTP 404)."""


class Conflict(DomainError):
    """The command contradicts what is already recorded (HTTP 409)."""


class PermissionDenied(DomainError):
    """The acting user's role may not do this (HTTP 403)."""
