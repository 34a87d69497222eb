"""Selection workflow step 3 (state MergeDraw): every shard's summary merged into the draw's
thresholds."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from prakerja.observability import SELECTION_CORRELATION, logger, tracer
from selection_workflow.dependencies import draw_merge
from selection_workflow.models import WaveStep


@logger.inject_lambda_context(correlation_id_path=SELECTION_CORRELATION, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = WaveStep.model_validate(event)
    logger.append_keys(wave_id=step.wave_id)
    thresholds = draw_merge().run(step.wave_id)
    result = {
        "participants": thresholds.participants,
        "eligible": thresholds.eligible,
        "selected": thresholds.provincial_selected + thresholds.national_selected,
    }
    logger.info("draw merged", extra=result)
    return result
