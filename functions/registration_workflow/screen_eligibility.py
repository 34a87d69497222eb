"""Registration workflow step 2 (state ScreenEligibility): the layered eligibility rules and
the decision, VERIFIED or REJECTED with every reason code."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from prakerja.metrics import DECISION, ProgramMetric
from prakerja.observability import REGISTRATION_CORRELATION, logger, metrics, tracer
from registration_workflow.dependencies import eligibility_screening


class StepInput(BaseModel):
    applicant_id: str
    registry: str | None = None


@logger.inject_lambda_context(correlation_id_path=REGISTRATION_CORRELATION, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = StepInput.model_validate(event)
    logger.append_keys(applicant_id=step.applicant_id)
    record = eligibility_screening().screen_eligibility(step.applicant_id)
    reasons = [reason.value for reason in record.reasons]
    logger.info("eligibility decided", extra={"status": record.status.value, "reasons": reasons})
    metrics.add_dimension(name=DECISION, value=record.status.value)  # VERIFIED or REJECTED
    metrics.add_metric(name=ProgramMetric.VERIFICATION_DECISIONS, unit="Count", value=1)
    return {"applicant_id": step.applicant_id, "status": record.status.value, "reasons": reasons}
