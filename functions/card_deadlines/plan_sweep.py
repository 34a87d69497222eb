"""Card deadlines step 1: the waves whose purchase deadline has passed, and their shards."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from card_deadlines.dependencies import planner
from prakerja.observability import EXECUTION_CORRELATION, logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path=EXECUTION_CORRELATION, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    swept = planner().plan()
    logger.info("deadline sweep planned", extra={"waves": swept.wave_ids})
    return swept.model_dump(mode="json")
