"""Powertools Logger, Tracer and Metrics, created once per process.

Service name and metrics namespace come from the function environment
(POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE), set by the CDK construct.
Never pass personal data to any of them: log ids, codes and counts only. Handlers are traced
with ``capture_response=False``: by default the Tracer copies a handler's return value into the
trace, and an API response may carry the applicant's own name (tests/unit/test_no_personal_data_in_telemetry.py).

Every log line of one request or execution carries the same ``correlation_id``: API handlers
take API Gateway's request id; a workflow's tasks take their execution's name, or the id it is
named after, from their payload at the paths below (JMESPath, for ``inject_lambda_context``).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()

REGISTRATION_CORRELATION = "applicant_id"  # the registration execution is named after the applicant
SELECTION_CORRELATION = "wave_id"  # the selection execution is named after the wave
PAYOUT_RUN_CORRELATION = "run_id"  # the run's execution name, given to its first step and in each item
# The execution's name ($$.Execution.Name), put in the payload by the state machine
# (infra/prakerja_infra/constructs/steps.py CORRELATION_ID).
EXECUTION_CORRELATION = "correlation_id"
