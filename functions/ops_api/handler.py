"""Lambda entry point of the ops routes."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ops_api.audit import record_call
from ops_api.dependencies import settings
from ops_api.routers import ROUTERS
from prakerja.clock import SystemClock
from prakerja.errors import DomainError
from prakerja.http.app import create_app
from prakerja.http.auth import require_ops
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
    try:
        require_ops(event)
    except DomainError as refused:
        logger.info("ops call refused", extra={"code": refused.code})
        return app.refuse(event, refused)  # with the CORS headers: ops staff use a browser too
    response = app.resolve(event, context)
    record_call(event, response, SystemClock())
    return response
