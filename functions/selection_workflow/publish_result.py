"""Selection workflow step 5 (state PublishResult): the shards' decisions checked against the
merge, then the wave's report published (the wave becomes SELECTED, its draw public)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from prakerja.metrics import ProgramMetric
from prakerja.observability import SELECTION_CORRELATION, logger, metrics, tracer
from prakerja.selection.workflow import ShardCounts
from selection_workflow.dependencies import publication
from selection_workflow.models import PublishStep


@logger.inject_lambda_context(correlation_id_path=SELECTION_CORRELATION, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = PublishStep.model_validate(event)
    logger.append_keys(wave_id=step.wave_id)
    report = publication().run(step.wave_id, [ShardCounts(**shard.model_dump()) for shard in step.applied])
    totals = report.model_dump(mode="json", exclude={"provinces"})
    logger.info("wave result published", extra=totals)
    metrics.add_metric(name=ProgramMetric.SELECTIONS, unit="Count", value=report.selected)
    return {"wave_id": step.wave_id, **totals}
