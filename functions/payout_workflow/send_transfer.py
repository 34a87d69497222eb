"""Payout workflow step 2 (per payout, waits for a task token): the transfer sent to the
payment partner. Returning leaves the step waiting for the partner's callback; a payout that
needs no waiting resumes its own step. PartnerUnavailable and RateLimited are raised for the
state machine to retry with backoff: the retry sends the same transfer id."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from payout_workflow.dependencies import transfers
from payout_workflow.models import SendInput
from prakerja.metrics import OperationalMetric
from prakerja.observability import PAYOUT_RUN_CORRELATION, logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path=PAYOUT_RUN_CORRELATION, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    item = SendInput.model_validate(event)
    logger.append_keys(payout_id=item.payout_id)
    settled = transfers().send(item.applicant_id, item.payout_id, item.task_token)
    if settled is None:
        logger.info("transfer sent, waiting for the partner")
        metrics.add_metric(name=OperationalMetric.TRANSFERS_SENT, unit="Count", value=1)
        return {"waiting": True}
    logger.info("payout settled without waiting", extra={"status": settled["status"]})
    return {"waiting": False}
