"""The API resolver every handler uses: validation on, problems for every error, body limit."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from prakerja.errors import DomainError, MalformedRequest, PayloadTooLarge
from prakerja.http.problems import PROBLEM_CONTENT_TYPE, from_domain_error, from_validation_errors, problem
from prakerja.observability import logger

MAX_BODY_BYTES = 64 * 1024
JSON = "application/json"


def _body_size(event: Mapping[str, Any]) -> int:
    body = event.get("body") or ""
    return len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())


def _body_is_text(event: Mapping[str, Any]) -> bool:
    """A body API Gateway passed base64-encoded must still be UTF-8 to be JSON."""
    if not event.get("isBase64Encoded") or not event.get("body"):
        return True
    try:
        base64.b64decode(event["body"], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return True


def _read_as_json(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The API takes JSON bodies only (API.md), whatever Content-Type says: `curl -d` sends
    form-urlencoded, which Powertools would parse as a form, and other types made it fail
    with a 500 (found by the API fuzzing)."""
    if not event.get("body"):
        return event

    def without_content_type(headers: Mapping[str, Any] | None) -> dict[str, Any]:
        return {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"}

    return {
        **event,
        "headers": {**without_content_type(event.get("headers")), "Content-Type": JSON},
        "multiValueHeaders": {**without_content_type(event.get("multiValueHeaders")), "Content-Type": [JSON]},
    }


class ProblemResolver(APIGatewayRestResolver):
    """Refuses bodies over the API's limit before routing, so that the answer is a 413
    whatever the route's validation would have said about the content; and bodies that are
    not text, which Powertools' JSON decoding would otherwise fail on with a 500."""

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        if _body_size(event) > MAX_BODY_BYTES:
            return problem_event(
                PayloadTooLarge("PAYLOAD_TOO_LARGE", f"The body may be at most {MAX_BODY_BYTES} bytes.")
            )
        if not _body_is_text(event):
            return problem_event(MalformedRequest("MALFORMED_JSON", "The body is not UTF-8 encoded JSON."))
        return super().resolve(_read_as_json(event), context)


def model_response(status: int, model: BaseModel) -> Response[str]:
    """A JSON answer with a status other than 200 (201 created, 202 accepted)."""
    return Response(status_code=status, content_type="application/json", body=model.model_dump_json())


def problem_event(error: DomainError) -> dict[str, Any]:
    """A problem as the Lambda proxy answer itself, for refusals made before routing."""
    response = from_domain_error(error)
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": PROBLEM_CONTENT_TYPE, **error.headers},
        "body": response.body,
        "isBase64Encoded": False,
    }


def create_app() -> ProblemResolver:
    app = ProblemResolver(enable_validation=True)

    @app.exception_handler(DomainError)
    def _domain_error(error: DomainError) -> Response[str]:
        logger.info("request refused", extra={"code": error.code, "status": error.status})
        return from_domain_error(error)

    @app.exception_handler(RequestValidationError)
    def _validation_error(error: RequestValidationError) -> Response[str]:
        response = from_validation_errors(error.errors())
        logger.info("request not valid", extra={"status": response.status_code})
        return response

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        # Only the type: messages of internal errors may quote personal data.
        logger.error("unexpected error", extra={"error_type": type(error).__name__})
        return problem(500, "INTERNAL_ERROR", "Internal error", "Something went wrong on our side; try again.")

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        return problem(404, "NOT_FOUND", "Not found", "No such resource.")

    return app
