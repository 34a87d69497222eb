"""Every ops call that changed something leaves one entry in the audit log (API.md, "Ops").

Calls whose change is a DynamoDB transaction (ticket answers, actions and their approvals) write
their entry in that transaction, with the action's own name and the reason typed; their routes
are in RECORDED_BY_ROUTE. Every other mutating call that succeeded is recorded here after the
route answered, as ``<METHOD> <resource>`` with its concrete path as the target: a route added
later is recorded without anyone remembering to. If that write fails after the change was made,
the answer is still the route's, the failure is logged and counted (AuditWriteFailures, with an
alarm), and the access log keeps the call with the caller's identity (docs/case-view.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ops_api.dependencies import audit_trail
from prakerja.audit.models import AuditEntry
from prakerja.clock import Clock
from prakerja.http.auth import event_caller
from prakerja.metrics import ProgramMetric
from prakerja.observability import logger, metrics

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Calls that record themselves in the transaction of their change, with their reason.
RECORDED_BY_ROUTE: frozenset[str] = frozenset(
    {
        "POST /v1/ops/applicants/{applicant_id}/actions",  # ops_api/action_routes.py, prakerja.cases
        "POST /v1/ops/actions/{action_id}/approve",
        "POST /v1/ops/actions/{action_id}/reject",
        "POST /v1/ops/complaints/{ticket_id}/updates",  # ops_api/complaint_routes.py, prakerja.grievances
    }
)
# Calls that change nothing though they are POSTs: a search carries its NIK in the body so that
# it never sits in a URL (API.md).
READS_BY_POST = frozenset({"POST /v1/ops/applicants/search"})


def route_of(event: Mapping[str, Any]) -> str:
    return f"{event.get('httpMethod', '')} {event.get('resource', '')}"


def record_call(event: Mapping[str, Any], response: Mapping[str, Any], clock: Clock) -> None:
    """The entry of a mutating call that succeeded, unless its route records its own."""
    route = route_of(event)
    status = int(response.get("statusCode", 500))
    if event.get("httpMethod") not in MUTATING or not 200 <= status < 300:
        return
    if route in RECORDED_BY_ROUTE or route in READS_BY_POST:
        return
    context: Mapping[str, Any] = event.get("requestContext") or {}
    entry = AuditEntry(
        at=clock.now(),
        actor=event_caller(event).account_id,
        action=route,
        target=str(event.get("path", "")),
        request_id=str(context.get("requestId") or "unknown"),
    )
    try:
        audit_trail().record(entry)
    except Exception as error:
        metrics.add_metric(name=ProgramMetric.AUDIT_WRITE_FAILURES, unit=MetricUnit.Count, value=1)
        logger.error("audit entry not written", extra={"route": route, "error_type": type(error).__name__})
