"""Registration workflow step 1 (state VerifyIdentity): e-KYC against the civil registry.

Input and output carry the applicant id and the verdict only; CivilRegistryUnavailable
propagates so that the state machine's Retry (matched by error name) backs off and retries.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from prakerja.metrics import VERDICT, ProgramMetric
from prakerja.observability import REGISTRATION_CORRELATION, logger, metrics, tracer
from registration_workflow.dependencies import identity_verification


class StepInput(BaseModel):
    applicant_id: str


@logger.inject_lambda_context(correlation_id_path=REGISTRATION_CORRELATION, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = StepInput.model_validate(event)
    logger.append_keys(applicant_id=step.applicant_id)
    verdict = identity_verification().verify_identity(step.applicant_id)
    logger.info("identity checked", extra={"registry": verdict.value})
    metrics.add_dimension(name=VERDICT, value=verdict.value)
    metrics.add_metric(name=ProgramMetric.IDENTITY_CHECKS, unit="Count", value=1)
    return {"applicant_id": step.applicant_id, "registry": verdict.value}
