"""Every 10 minutes: the complaint tickets awaiting ops past their category's service level,
counted per category with COUNT queries of the queue index (no scan, no item read), reported as
ComplaintsOverdue in total and by category (the alarm reads the total)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from prakerja.adapters import aws
from prakerja.adapters.dynamodb_grievances import DynamoDBTickets, TicketVault
from prakerja.clock import SystemClock
from prakerja.config import ComplaintMetricsSettings, load_settings
from prakerja.grievances.service import GrievanceService
from prakerja.metrics import CATEGORY, ProgramMetric
from prakerja.observability import EXECUTION_CORRELATION, logger, metrics, tracer
from prakerja.program import load_program


class _NoMessages:
    """Counting reads no message: a cipher that refuses, so nothing here could decrypt one."""

    def encrypt(self, plaintext: bytes, context: dict[str, str]) -> str:
        raise PermissionError("the overdue count encrypts nothing")

    def decrypt(self, ciphertext: str, context: dict[str, str]) -> bytes:
        raise PermissionError("the overdue count decrypts nothing")


@cache
def grievances() -> GrievanceService:
    config = load_settings(ComplaintMetricsSettings)
    tickets = DynamoDBTickets(aws.dynamodb(), config.cases_table, TicketVault(_NoMessages()))
    return GrievanceService(tickets, load_program().grievances, SystemClock())


@logger.inject_lambda_context(correlation_id_path=EXECUTION_CORRELATION, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    counts = grievances().overdue_counts()
    total = sum(counts.values())
    metrics.add_metric(name=ProgramMetric.COMPLAINTS_OVERDUE, unit=MetricUnit.Count, value=total)
    for category, count in counts.items():
        with single_metric(
            name=ProgramMetric.COMPLAINTS_OVERDUE, unit=MetricUnit.Count, value=count, namespace=metrics.namespace
        ) as by_category:
            by_category.add_dimension(name=CATEGORY, value=str(category))
    logger.info("overdue complaints counted", extra={"overdue": total})
    return {"overdue": total, "by_category": {str(c): n for c, n in counts.items()}}
