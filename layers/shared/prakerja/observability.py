"""Powertools Logger, Tracer and Metrics, created once per process.

Service name and metrics namespace come from the function environment
(POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE), set by the CDK construct.
Never pass personal data to any of them: log ids, codes and counts only. Handlers are traced
with ``capture_response=False``: by default the Tracer copies a handler's return value into the
trace, and an API response may carry the applicant's own name (tests/unit/test_no_personal_data_in_telemetry.py).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
