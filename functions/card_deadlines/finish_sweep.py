"""Card deadlines step 3: each due wave marked swept, with what was revoked and returned."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from card_deadlines.dependencies import planner
from prakerja.cards.deadlines import ShardSwept
from prakerja.observability import EXECUTION_CORRELATION, logger, metrics, tracer


class FinishStep(BaseModel):
    wave_ids: list[str]
    shards: list[ShardSwept]


@logger.inject_lambda_context(correlation_id_path=EXECUTION_CORRELATION, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = FinishStep.model_validate(event)
    done = planner().finish(step.wave_ids, step.shards)
    for wave_id, total in done.waves.items():
        logger.info("wave swept", extra={"wave_id": wave_id, "revoked": total.revoked, "returned": total.returned})
    return done.model_dump(mode="json")
