"""Selection workflow step 1 (state PlanSelection): the shard descriptors the Distributed Maps
read from S3."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from prakerja.observability import SELECTION_CORRELATION, logger, tracer
from prakerja.selection.workflow import plan_selection
from selection_workflow.dependencies import planning
from selection_workflow.models import WaveStep


@logger.inject_lambda_context(correlation_id_path=SELECTION_CORRELATION, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = WaveStep.model_validate(event)
    logger.append_keys(wave_id=step.wave_id)
    waves, store = planning()
    plan = plan_selection(waves, store, step.wave_id)
    logger.info("selection planned", extra={"shards_key": plan.shards_key, "parts_key": plan.parts_key})
    return {"wave_id": step.wave_id, "bucket": store.bucket, "shards_key": plan.shards_key, "parts_key": plan.parts_key}
