"""Card deadlines step 2 (map, one per wave shard, looped): revoke a page of the shard's unused
cards. The output is the loop's next item: the cursor where the next page starts (null once the
shard is done) and the shard's running totals."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from card_deadlines.dependencies import shard_sweeper
from prakerja.cards.deadlines import ShardItem
from prakerja.metrics import OperationalMetric
from prakerja.observability import EXECUTION_CORRELATION, logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path=EXECUTION_CORRELATION, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    item = ShardItem.model_validate(event)
    logger.append_keys(wave_id=item.wave_id, shard=item.shard)
    swept = shard_sweeper().sweep(item)
    page_revoked = swept.revoked - item.revoked
    logger.info(
        "shard page swept",
        extra={
            "page_revoked": page_revoked,
            "page_returned": swept.returned - item.returned,
            "revoked": swept.revoked,
            "returned": swept.returned,
            "shard_done": swept.cursor is None,
        },
    )
    # This page's cards, not the shard's total so far.
    metrics.add_metric(name=OperationalMetric.CARDS_REVOKED, unit="Count", value=page_revoked)
    return swept.model_dump(mode="json")
