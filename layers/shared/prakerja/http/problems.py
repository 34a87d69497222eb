"""RFC 9457 problem responses: the one place where errors become HTTP answers."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.event_handler import Response

from prakerja.errors import DomainError, FieldError

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://prakerja.example/problems/"

# Pydantic's built-in error types, folded into a few stable codes. Custom validators raise
# PydanticCustomError whose type already is an UPPER_SNAKE code and is passed through.
_PYDANTIC_CODES = {
    "missing": "FIELD_REQUIRED",
    "extra_forbidden": "UNKNOWN_FIELD",
    "json_invalid": "MALFORMED_JSON",
}
_UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9_]+$")


def problem_body(status: int, code: str, title: str, detail: str, errors: Sequence[FieldError] = ()) -> dict[str, Any]:
    """The RFC 9457 document itself; also what the local runtime's own routes answer."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code.lower().replace("_", "-"),
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message, "code": e.code} for e in errors]
    return body


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> Response[str]:
    body = problem_body(status, code, title, detail, errors)
    return Response(
        status_code=status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=json.dumps(body),
        headers=headers,
    )


def from_domain_error(error: DomainError) -> Response[str]:
    return problem(error.status, error.code, error.title, error.detail, error.errors, error.headers or None)


def code_for_pydantic_type(error_type: str) -> str:
    if _UPPER_SNAKE.match(error_type):
        return error_type
    return _PYDANTIC_CODES.get(error_type, "INVALID_VALUE")


def from_validation_errors(raw_errors: Sequence[Any]) -> Response[str]:
    """A 422 listing every field error; the top-level code is the first field's code.

    Messages are pydantic's or our validators' texts, which never quote the rejected input
    (it may be a NIK).
    """
    field_errors: list[FieldError] = []
    for raw in raw_errors:
        loc = [str(part) for part in raw.get("loc", ()) if part != "body"]
        code = code_for_pydantic_type(str(raw.get("type", "")))
        if code == "MALFORMED_JSON":
            return problem(400, "MALFORMED_JSON", "Malformed request", "The body is not valid JSON.")
        field_errors.append(FieldError(field=".".join(loc) or "body", message=str(raw.get("msg", "")), code=code))
    if not field_errors:
        return problem(422, "VALIDATION_FAILED", "Validation failed", "The request is not valid.")
    first = field_errors[0]
    detail = (
        f"{first.field}: {first.message}" if len(field_errors) == 1 else f"{len(field_errors)} fields are not valid."
    )
    return problem(422, first.code, "Validation failed", detail, field_errors)
