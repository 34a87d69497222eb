"""Reconciliation: one settlement report (``{"report_key": "settlements/<P>/<day>.csv"}``)
compared with the ledger line by line; the result is written to the payouts bucket."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from prakerja.adapters import aws
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.adapters.s3_objects import S3ObjectStore
from prakerja.config import ReconciliationSettings, load_settings
from prakerja.metrics import OperationalMetric
from prakerja.observability import EXECUTION_CORRELATION, logger, metrics, tracer
from prakerja.payouts.reconciliation import ReconciliationService


@cache
def reconciliation() -> ReconciliationService:
    config = load_settings(ReconciliationSettings)
    return ReconciliationService(
        DynamoDBLedger(aws.dynamodb(), config.ledger_table),
        S3ObjectStore(aws.s3(), config.payouts_bucket),
    )


class ReconcileInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    report_key: str = Field(min_length=1, max_length=200)


@logger.inject_lambda_context(correlation_id_path=EXECUTION_CORRELATION, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = reconciliation().run(ReconcileInput.model_validate(event).report_key)
    logger.info(
        "settlement reconciled",
        extra={"provider": result.provider, "status": result.status, "discrepancies": len(result.discrepancies)},
    )
    metrics.add_metric(name=OperationalMetric.SETTLEMENT_DISCREPANCIES, unit="Count", value=len(result.discrepancies))
    return result.model_dump(mode="json")
