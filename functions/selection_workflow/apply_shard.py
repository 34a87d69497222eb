"""Selection workflow step 4 (map ApplyShards, one per shard): each participant's outcome, a
card for each one selected, the notifications, and the shard's pages of the published draw."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from prakerja.metrics import OperationalMetric
from prakerja.observability import SELECTION_CORRELATION, logger, metrics, tracer
from selection_workflow.dependencies import outcomes
from selection_workflow.models import ShardPartStep


@logger.inject_lambda_context(correlation_id_path=SELECTION_CORRELATION, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = ShardPartStep.model_validate(event)
    logger.append_keys(wave_id=step.wave_id, shard=step.shard, part=step.part)
    counts = outcomes().run(step.wave_id, step.shard, step.part, step.parts)
    logger.info("shard applied", extra=counts.as_dict())
    metrics.add_metric(name=OperationalMetric.SELECTION_OUTCOMES_WRITTEN, unit="Count", value=counts.written)
    return counts.as_dict()
