"""Payout workflow step 1: the ledger's books checked, then the payouts due now written as the
run's item list.

A run starts every 15 minutes, which makes this the ledger's periodic check: its imbalance is a
metric (0 when balanced) whose absence tells that the runs, and the check, stopped."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from payout_workflow.dependencies import ledger, run_files, settings, transfers
from payout_workflow.models import Collected, RunInput
from prakerja.metrics import OperationalMetric, ProgramMetric
from prakerja.observability import logger, metrics, tracer


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = RunInput.model_validate(event)
    run_id = run.run_id or context.aws_request_id
    logger.set_correlation_id(run_id)  # and every item carries it to the transfer steps' logs
    report = ledger().report()
    metrics.add_metric(name=ProgramMetric.LEDGER_IMBALANCE, unit=MetricUnit.Count, value=report.imbalance)
    if not report.balanced:  # never expected: every posting balances by construction
        logger.error("ledger not balanced", extra={"debits": report.debits, "credits": report.credits})
    config = settings()
    due = transfers().due(config.payout_run_limit)
    items = [
        {
            "applicant_id": a,
            "payout_id": p,
            "callback_timeout_seconds": config.payout_callback_timeout_seconds,
            "run_id": run_id,
        }
        for a, p in due
    ]
    key = f"payout-runs/{run_id}/payouts.json"
    run_files().put(key, json.dumps(items).encode(), "application/json")
    logger.info("payouts collected", extra={"run_id": run_id, "count": len(items)})
    metrics.add_metric(name=OperationalMetric.PAYOUTS_COLLECTED, unit="Count", value=len(items))
    return Collected(run_id=run_id, count=len(items), items_key=key).model_dump()
