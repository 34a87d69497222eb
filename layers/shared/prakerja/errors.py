"""Typed domain errors. Each carries a stable ``code``; the HTTP layer maps them to RFC 9457
problem responses in one place (``prakerja.http.problems``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    code: str


class DomainError(Exception):
    """Base of every error a client can cause. ``status`` is the HTTP status it maps to."""

    status: int = 400
    title: str = "Bad request"

    def __init__(self, code: str, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.errors = errors or []

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the problem (Retry-After, say)."""
        return {}


class ValidationFailed(DomainError):
    status = 422
    title = "Validation failed"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict with the current state"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class PayloadTooLarge(DomainError):
    status = 413
    title = "Payload too large"


class MalformedRequest(DomainError):
    status = 400
    title = "Malformed request"


class Unavailable(DomainError):
    """A part the call needs is not there (yet): retry later."""

    status = 503
    title = "Service unavailable"
