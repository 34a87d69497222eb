"""Builds the API's OpenAPI document from every function's routes.

Each function serves only its own routes, but the document covers all of them, so it is
built by including every router in one throwaway resolver. Each operation names the function
that serves it (FUNCTION_EXTENSION): the CDK app builds the API's routes from this document
(infra/prakerja_infra/routes.py), so that the routers are the one source of the route list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer, Server

import prakerja
from prakerja.http.idempotency import HEADER as IDEMPOTENCY_HEADER
from prakerja.http.idempotency import KEY_PATTERN as IDEMPOTENCY_KEY_PATTERN
from prakerja.http.schemas import PROBLEM_DESCRIPTIONS, Problem
from prakerja.partners import PARTNER_HEADER, SIGNATURE_HEADER, SIGNATURE_WINDOW_SECONDS, TIMESTAMP_HEADER

TITLE = "Prakerja program API"
DESCRIPTION = (
    "Registration, waves and the verifiable draw, training purchases and incentive payouts of a "
    "national pre-employment card program. Errors are RFC 9457 problems with a stable `code`."
)
PARTNER_PATHS = "/v1/partner/"
# The function (the stack's construct id) that serves an operation.
FUNCTION_EXTENSION = "x-prakerja-function"
PUBLIC_PATHS = frozenset({"/v1/health", "/v1/openapi.json", "/v1/docs", "/v1/waves/{wave_id}/draw"})


def _operations(routers: Sequence[Router]) -> set[tuple[str, str]]:
    """(path, method) of every route of these routers."""
    resolver = APIGatewayRestResolver(enable_validation=True)
    for router in routers:
        resolver.include_router(router)
    paths: dict[str, dict[str, Any]] = json.loads(resolver.get_openapi_json_schema()).get("paths", {})
    return {(path, method) for path, operations in paths.items() for method in operations}


def build_document(routers_by_function: Mapping[str, Sequence[Router]]) -> dict[str, Any]:
    resolver = APIGatewayRestResolver(enable_validation=True)
    served_by: dict[tuple[str, str], str] = {}
    for function, routers in routers_by_function.items():
        for router in routers:
            resolver.include_router(router)
        for operation in _operations(routers):
            assert operation not in served_by, f"{operation} is served by {served_by[operation]} and {function}"
            served_by[operation] = function
    document: dict[str, Any] = json.loads(
        resolver.get_openapi_json_schema(
            title=TITLE,
            version=prakerja.__version__,
            description=DESCRIPTION,
            servers=[Server(url="/")],
            security_schemes={
                "bearer": HTTPBearer(bearerFormat="JWT"),
                "partnerSignature": APIKey(
                    name=SIGNATURE_HEADER,
                    in_=APIKeyIn.header,
                    description=f"Partners: {PARTNER_HEADER}, {TIMESTAMP_HEADER} (unix seconds, within "
                    f"{SIGNATURE_WINDOW_SECONDS} s) and {SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of "
                    '"<timestamp>.<raw body>" with the partner\'s secret>',
                ),
            },
            security=[{"bearer": []}],
        )
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)  # every 422 is a Problem (below)
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    for path, operations in document.get("paths", {}).items():
        if path in PUBLIC_PATHS:
            for operation in operations.values():
                operation["security"] = []
        elif path.startswith(PARTNER_PATHS):
            for operation in operations.values():
                operation["security"] = [{"partnerSignature": []}]
        for method, operation in operations.items():
            _document_what_any_route_answers(path, operation)
            operation[FUNCTION_EXTENSION] = served_by[(path, method)]
    return document


def _document_what_any_route_answers(path: str, operation: dict[str, Any]) -> None:
    """Answers that do not depend on the route's own logic: throttling (stage, WAF, attempt
    limits) anywhere, body refusals where there is a body, credentials where they are needed,
    an unknown id where the path has one; and the Idempotency-Key's format."""
    statuses = {429}
    if "requestBody" in operation:
        statuses |= {400, 413}
    if operation.get("security") != []:
        statuses.add(401)
    if "{" in path:
        statuses.add(404)
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    responses = operation.setdefault("responses", {})
    responses["422"] = {"description": PROBLEM_DESCRIPTIONS[422], "content": problem}  # never Powertools' shape
    for status in sorted(statuses):
        responses.setdefault(str(status), {"description": PROBLEM_DESCRIPTIONS[status], "content": problem})
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header" and str(parameter.get("name")).lower() == IDEMPOTENCY_HEADER.lower():
            parameter["schema"] = {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN}
