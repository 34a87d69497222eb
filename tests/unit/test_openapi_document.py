"""The committed OpenAPI document is the one the API serves, and covers API.md's routes."""

from __future__ import annotations

import json
from pathlib import Path

from public_api.routes import openapi_document

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_document_is_current() -> None:
    assert json.loads(COMMITTED.read_text()) == openapi_document(), (
        "docs/openapi.json is stale: regenerate with "
        "`PYTHONPATH=layers/shared:functions .venv/bin/python -m public_api > docs/openapi.json`"
    )


def test_document_has_the_registration_routes_and_problem_schema() -> None:
    document = openapi_document()
    paths = document["paths"]
    for path, method in [
        ("/v1/health", "get"),
        ("/v1/applicants", "post"),
        ("/v1/applicants/me", "get"),
        ("/v1/assessment", "get"),
        ("/v1/applicants/me/assessment", "post"),
        ("/v1/ops/exclusion-lists/{source}", "post"),
    ]:
        assert method in paths[path], f"{method.upper()} {path} missing"
    assert paths["/v1/health"]["get"]["security"] == []
    assert "Problem" in document["components"]["schemas"]
    conflict = paths["/v1/applicants"]["post"]["responses"]["409"]
    assert "application/problem+json" in conflict["content"]


def test_every_operation_names_the_function_that_serves_it() -> None:
    from public_api.openapi import FUNCTION_EXTENSION

    served = {
        operation[FUNCTION_EXTENSION] for ops in openapi_document()["paths"].values() for operation in ops.values()
    }
    assert served == {"PublicApi", "ApplicantApi", "OpsApi", "PartnerApi"}
