"""The complaint queue for ops (API.md, "Ops"): the queue by status, category and overdue, oldest
first; one whole ticket; an answer, which the applicant sees and is texted about (without its
text), written with its audit entry in one transaction (ops_api/audit.py RECORDED_BY_ROUTE)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.metrics import MetricUnit

from ops_api.dependencies import grievance_service
from prakerja.grievances.models import ComplaintCategory, OpsUpdateRequest, QueueFilters, TicketStatus
from prakerja.grievances.views import TicketList, TicketSummaryView, TicketView
from prakerja.http.auth import ops_caller
from prakerja.http.params import Limit, NextToken
from prakerja.http.schemas import answers
from prakerja.metrics import ProgramMetric
from prakerja.observability import logger, metrics

router = Router()


@router.get(
    "/v1/ops/complaints",
    summary="The complaint queue, oldest first (by when each entered it); unfinished tickets unless a status is asked",
    responses=answers(401, 403, 422),
    tags=["Grievances"],
)
def complaint_queue(
    status: TicketStatus | None = None,
    category: ComplaintCategory | None = None,
    overdue: Annotated[bool, Query(description="Only tickets awaiting ops past their service level")] = False,
    limit: Limit = 50,
    next_token: NextToken = None,
) -> TicketList:
    ops_caller(router)
    filters = QueueFilters(status=status, category=category, overdue=overdue)
    found, token = grievance_service().queue(filters, limit, next_token)
    return TicketList(items=[TicketSummaryView.of(t) for t in found], next_token=token)


@router.get(
    "/v1/ops/complaints/<ticket_id>",
    summary="One ticket, with every update",
    responses=answers(401, 403, 404),
    tags=["Grievances"],
)
def complaint(ticket_id: str) -> TicketView:
    ops_caller(router)
    return TicketView.of(grievance_service().ticket(ticket_id))


@router.post(
    "/v1/ops/complaints/<ticket_id>/updates",
    summary="Answer the applicant, setting the ticket's status; the applicant is notified",
    responses=answers(400, 401, 403, 404, 409, 413, 422, description="The ticket with the answer", model=TicketView),
    tags=["Grievances"],
)
def answer(ticket_id: str, body: OpsUpdateRequest) -> TicketView:
    actor = ops_caller(router).account_id
    context = router.current_event.raw_event.get("requestContext") or {}
    request_id = str(context.get("requestId") or "unknown")  # as ops_api/audit.py records other calls
    ticket = grievance_service().answer(ticket_id, body, actor=actor, request_id=request_id)
    metrics.add_metric(name=ProgramMetric.COMPLAINTS_ANSWERED, unit=MetricUnit.Count, value=1)
    logger.info("complaint answered", extra={"ticket_id": ticket.ticket_id, "status": ticket.status})
    return TicketView.of(ticket)
