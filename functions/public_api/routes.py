"""Public routes: health, the OpenAPI document and a Swagger UI. No credentials."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

import prakerja
from prakerja.http.schemas import answers
from prakerja.selection.published import DrawPage
from public_api.dependencies import published_draw
from public_api.openapi import build_document

router = Router()

SWAGGER_UI = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Prakerja API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "openapi.json", dom_id: "#ui"});</script>
</body></html>"""


class Health(BaseModel):
    status: str
    version: str


@router.get("/v1/health", summary="Liveness of the API", tags=["Public"])
def health() -> Health:
    return Health(status="ok", version=prakerja.__version__)


@router.get("/v1/openapi.json", summary="This API's OpenAPI document", tags=["Public"])
def openapi_json() -> dict[str, Any]:
    return openapi_document()


@router.get(
    "/v1/docs",
    summary="Swagger UI for the OpenAPI document",
    responses={200: {"description": "An HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}},
    tags=["Public"],
)
def docs() -> Response[str]:
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=SWAGGER_UI)


@router.get(
    "/v1/waves/<wave_id>/draw",
    summary="A wave's published draw (prakerja-draw-v1): everything needed to recompute it",
    responses=answers(404, 409, 422),
    tags=["Public"],
)
def wave_draw(
    wave_id: str,
    next_token: Annotated[str | None, Query(max_length=20)] = None,
) -> DrawPage:
    return published_draw().page(wave_id, next_token)


@cache
def openapi_document() -> dict[str, Any]:
    """Every function's routes, by the function that serves them (each function's ``ROUTERS``).
    Imported here, at the document's first request: the other functions' routes (and all they
    import) would otherwise weigh on every cold start of the draw's hot pages."""
    from partner_api.routes import router as partner_routes  # noqa: PLC0415

    from applicant_api.routers import ROUTERS as APPLICANT_ROUTERS  # noqa: PLC0415
    from ops_api.routers import ROUTERS as OPS_ROUTERS  # noqa: PLC0415

    return build_document(
        {
            "PublicApi": [router],
            "ApplicantApi": APPLICANT_ROUTERS,
            "OpsApi": OPS_ROUTERS,
            "PartnerApi": [partner_routes],
        }
    )
