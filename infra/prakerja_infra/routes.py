"""The API's routes, from the OpenAPI document the routers make (docs/openapi.json, kept equal to
the one the API serves by tests/unit/test_openapi_document.py): the routers are the one source of
the route list. Each operation names the function that serves it (``x-prakerja-function``), and
its ``security`` says who may call it: none (public), a partner's signature, or, by the
document's default, a Cognito user."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import aws_lambda as lambda_

from prakerja_infra.constructs.api import Access, Route

OPENAPI_DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
FUNCTION_EXTENSION = "x-prakerja-function"  # public_api.openapi.FUNCTION_EXTENSION
PARTNER_SIGNATURE = "partnerSignature"
METHODS = ("get", "put", "post", "delete", "patch")


def access_of(operation: Mapping[str, Any], default: list[dict[str, list[str]]]) -> Access:
    security = operation.get("security", default)
    if security == []:
        return Access.PUBLIC
    schemes = {scheme for requirement in security for scheme in requirement}
    if schemes == {PARTNER_SIGNATURE}:
        return Access.PARTNER
    if schemes == {"bearer"}:
        return Access.USER
    raise ValueError(f"unknown security {security!r}")


def api_routes(functions: Mapping[str, lambda_.IFunction], document: Path = OPENAPI_DOCUMENT) -> list[Route]:
    """Every operation of the document as a route to the function that serves it."""
    spec: dict[str, Any] = json.loads(document.read_text(encoding="utf-8"))
    routes = []
    for path, operations in sorted(spec["paths"].items()):
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            function = operation.get(FUNCTION_EXTENSION)
            if function not in functions:
                raise ValueError(f"{method.upper()} {path}: served by {function!r}, not one of {sorted(functions)}")
            routes.append(Route(method.upper(), path, functions[function], access_of(operation, spec["security"])))
    return routes
