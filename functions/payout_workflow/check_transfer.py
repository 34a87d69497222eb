"""Payout workflow step 3 (when no callback came in time): the partner asked about the
transfer. TransferPending and PartnerUnavailable are retried by the state machine."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from payout_workflow.dependencies import transfers
from payout_workflow.models import PayoutItem
from prakerja.observability import PAYOUT_RUN_CORRELATION, logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path=PAYOUT_RUN_CORRELATION, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    item = PayoutItem.model_validate(event)
    logger.append_keys(payout_id=item.payout_id)
    result = transfers().check(item.applicant_id, item.payout_id)
    logger.info("transfer checked", extra={"status": result["status"], "failure_code": result["failure_code"]})
    return result
