"""Lambda entry point of the partner routes.

Partners sign their calls (HMAC, prakerja.partners). The signature covers the raw body, so it
is checked here, on the event, before any route parses the body: an unsigned or forged call
gets 401 whatever its content.
"""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from partner_api.dependencies import partner_secrets
from partner_api.routes import PARTNER, router
from prakerja.clock import WallClock
from prakerja.errors import DomainError
from prakerja.http.app import create_app, problem_event
from prakerja.observability import logger, metrics, tracer
from prakerja.partners import authenticate, load_partners
from prakerja.snapstart import register as register_snapstart_hooks

app = create_app()
app.include_router(router)
wall_clock = WallClock()  # a signature's age is real time, whatever the program's clock says


def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


register_snapstart_hooks()  # SnapStart: after a restore, fresh randomness and clients


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        partner = authenticate(
            load_partners(), partner_secrets(), dict(event.get("headers") or {}), _raw_body(event), wall_clock.now()
        )
    except DomainError as refused:
        logger.info("partner call refused", extra={"code": refused.code})
        return problem_event(refused)
    logger.append_keys(partner_id=partner.partner_id)
    app.context[PARTNER] = partner  # cleared by resolve() at the end of the call
    return app.resolve(event, context)
