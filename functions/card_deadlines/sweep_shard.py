"""Card deadlines step 2 (map, one per wave shard): revoke the shard's unused cards."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from card_deadlines.dependencies import shard_sweeper
from prakerja.cards.deadlines import ShardItem
from prakerja.observability import EXECUTION_CORRELATION, logger, metrics, tracer

sweeper = shard_sweeper()


@logger.inject_lambda_context(correlation_id_path=EXECUTION_CORRELATION, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    item = ShardItem.model_validate(event)
    logger.append_keys(wave_id=item.wave_id, shard=item.shard)
    swept = sweeper.sweep(item.wave_id, item.shard)
    logger.info("shard swept", extra={"revoked": swept.revoked, "returned": swept.returned})
    metrics.add_metric(name="CardsRevoked", unit="Count", value=swept.revoked)
    return swept.model_dump(mode="json")
