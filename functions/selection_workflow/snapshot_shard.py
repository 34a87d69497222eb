"""Selection workflow step 2 (map SnapshotShards, one per shard): the shard's participants
re-screened against the lists as they are after the close, exported once, and summarized."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from prakerja.metrics import OperationalMetric
from prakerja.observability import SELECTION_CORRELATION, logger, metrics, tracer
from selection_workflow.dependencies import snapshots
from selection_workflow.models import ShardStep


@logger.inject_lambda_context(correlation_id_path=SELECTION_CORRELATION, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = ShardStep.model_validate(event)
    logger.append_keys(wave_id=step.wave_id, shard=step.shard)
    counts = snapshots().run(step.wave_id, step.shard)
    logger.info("shard snapshot", extra=counts.as_dict())
    metrics.add_metric(name=OperationalMetric.SELECTION_PARTICIPANTS_SNAPSHOT, unit="Count", value=counts.participants)
    return counts.as_dict()
