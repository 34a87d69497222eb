"""Payout workflow step 1: the payouts due now, written as the run's item list."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from payout_workflow.dependencies import run_files, settings, transfers
from payout_workflow.models import Collected, RunInput
from prakerja.observability import logger, metrics, tracer

service = transfers()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = RunInput.model_validate(event)
    run_id = run.run_id or context.aws_request_id
    config = settings()
    due = service.due(config.payout_run_limit)
    items = [
        {"applicant_id": a, "payout_id": p, "callback_timeout_seconds": config.payout_callback_timeout_seconds}
        for a, p in due
    ]
    key = f"payout-runs/{run_id}/payouts.json"
    run_files().put(key, json.dumps(items).encode(), "application/json")
    logger.info("payouts collected", extra={"run_id": run_id, "count": len(items)})
    metrics.add_metric(name="PayoutsCollected", unit="Count", value=len(items))
    return Collected(run_id=run_id, count=len(items), items_key=key).model_dump()
