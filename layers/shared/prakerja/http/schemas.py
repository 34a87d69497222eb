"""Response shapes shared by several routes, for the OpenAPI document."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseContentSchema
from pydantic import BaseModel, Field

PROBLEM_DESCRIPTIONS = {
    400: "Malformed JSON",
    401: "No or invalid credentials",
    403: "Not allowed",
    404: "Unknown resource",
    409: "Conflict with the current state",
    413: "Body over 64 KiB",
    422: "Validation failed",
    429: "Throttled: too many requests or attempts; retry later",
    503: "A part of the system this call needs is unavailable; retry later",
}


class FieldProblem(BaseModel):
    field: str
    message: str
    code: str


class Problem(BaseModel):
    """RFC 9457 problem details, served as application/problem+json."""

    type: str
    title: str
    status: int
    code: str = Field(description="Stable machine-readable UPPER_SNAKE code")
    detail: str
    errors: list[FieldProblem] | None = None


def problem_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI `responses` entries for the problem statuses a route can answer."""
    schema: OpenAPIResponseContentSchema = {"schema": {"$ref": "#/components/schemas/Problem"}}
    return {
        status: OpenAPIResponse(description=PROBLEM_DESCRIPTIONS[status], content={"application/problem+json": schema})
        for status in statuses
    }


def answers(
    *problem_statuses: int,
    status: int = 200,
    description: str = "OK",
    model: type[BaseModel] | None = None,
) -> dict[int, OpenAPIResponse]:
    """A route's OpenAPI `responses`: its success (the return annotation's schema, or ``model``
    for routes answering a `Response` with another status) and the problems it can answer.
    Powertools documents no success at all once `responses` is given, hence the success here."""
    success = OpenAPIResponse(description=description)
    if model is not None:
        success["content"] = {"application/json": {"model": model}}
    return {status: success, **problem_responses(*problem_statuses)}
