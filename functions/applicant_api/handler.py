"""Lambda entry point of the applicant routes."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from applicant_api.dependencies import settings
from applicant_api.routers import ROUTERS
from prakerja.http.app import create_app
from prakerja.observability import logger, metrics, tracer
from prakerja.snapstart import register as register_snapstart_hooks

app = create_app(settings().cors_allowed_origins)
for router in ROUTERS:
    app.include_router(router)

register_snapstart_hooks()  # SnapStart: after a restore, fresh randomness and clients


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
