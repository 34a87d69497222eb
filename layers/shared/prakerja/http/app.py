"""The API resolver every handler uses: validation on, problems for every error, body limit,
CORS headers for the allowed browser origins."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from prakerja.config import CORS_EXPOSED_HEADERS
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


def _request_header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header of a proxy event, whatever its case (HTTP/2 clients send lower case)."""
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if str(key).lower() == wanted and value is not None:
            return str(value)
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if str(key).lower() == wanted and values:
            return str(values[-1])
    return None


def _set_header(response: MutableMapping[str, Any], name: str, value: str) -> None:
    """Sets a header of a proxy answer in the map it uses (Powertools answers in
    multiValueHeaders, problem_event in headers); a header of the same name goes."""
    multi = "multiValueHeaders" in response
    target: MutableMapping[str, Any] = response.setdefault("multiValueHeaders" if multi else "headers", {})
    for key in [k for k in target if str(k).lower() == name.lower()]:
        del target[key]
    target[name] = [value] if multi else value
    if multi:
        others: MutableMapping[str, Any] = response.get("headers") or {}
        for key in [k for k in others if str(k).lower() == name.lower()]:
            del others[key]


def _vary_with_origin(response: Mapping[str, Any]) -> str:
    """The answer's Vary with Origin added to what it already names."""
    named: list[str] = []
    for key, value in {**(response.get("headers") or {}), **(response.get("multiValueHeaders") or {})}.items():
        if str(key).lower() == "vary":
            for item in value if isinstance(value, list) else [value]:
                named.extend(part.strip() for part in str(item).split(",") if part.strip())
    if not any(part.lower() == "origin" for part in named):
        named.append("Origin")
    return ", ".join(named)


class ProblemResolver(APIGatewayRestResolver):
    """Refuses bodies over the API's limit before routing, so that the answer is a 413
    whatever the route's validation would have said about the content; and bodies that are
    not text, which Powertools' JSON decoding would otherwise fail on with a 500.

    With browser origins (CorsSettings), every answer to one of them, problems and refusals
    included, names that origin in Access-Control-Allow-Origin; other origins get none (never
    `*`), and every answer says it varies by Origin. Preflights never reach the functions:
    API Gateway answers them (infra: constructs/api.py). Powertools' CORSConfig is not used: it
    adds nothing to the refusals made here before routing, and sends no Vary."""

    def __init__(self, *, cors_origins: Iterable[str] = (), enable_validation: bool = False) -> None:
        super().__init__(enable_validation=enable_validation)
        self.cors_origins = frozenset(cors_origins)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        if _body_size(event) > MAX_BODY_BYTES:
            return self.refuse(
                event, PayloadTooLarge("PAYLOAD_TOO_LARGE", f"The body may be at most {MAX_BODY_BYTES} bytes.")
            )
        if not _body_is_text(event):
            return self.refuse(event, MalformedRequest("MALFORMED_JSON", "The body is not UTF-8 encoded JSON."))
        return self.with_cors(event, super().resolve(_read_as_json(event), context))

    def refuse(self, event: Mapping[str, Any], error: DomainError) -> dict[str, Any]:
        """A problem as the proxy answer itself, for refusals made before routing (here, or
        in a handler before it calls resolve), with the CORS headers the request gets."""
        return self.with_cors(event, problem_event(error))

    def with_cors(self, event: Mapping[str, Any], response: dict[str, Any]) -> dict[str, Any]:
        if not self.cors_origins:
            return response
        _set_header(response, "Vary", _vary_with_origin(response))
        origin = _request_header(event, "Origin")
        if origin is not None and origin in self.cors_origins:
            _set_header(response, "Access-Control-Allow-Origin", origin)
            _set_header(response, "Access-Control-Expose-Headers", ",".join(CORS_EXPOSED_HEADERS))
        return response


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


def create_app(cors_origins: Iterable[str] = ()) -> ProblemResolver:
    """The resolver of an API function; ``cors_origins`` are the browser origins it answers
    (CorsSettings.cors_allowed_origins), none for functions that browsers do not call."""
    app = ProblemResolver(cors_origins=cors_origins, enable_validation=True)

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
