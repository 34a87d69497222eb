"""Applicant routes of complaints (API.md, "Applicants" and "Grievances"): file one, list mine,
read one of mine, reply. Messages are personal data: never logged, and never in the answer of a
POST, which the idempotency table keeps in clear for a day (the ticket's summary instead; the
messages are read back with GET /v1/complaints/{ticket_id})."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from applicant_api.dependencies import applicants, attempt_limiter, grievance_service, idempotent_responses
from prakerja.grievances.models import ComplaintRequest, ReplyRequest
from prakerja.grievances.service import summary
from prakerja.grievances.views import TicketList, TicketSummaryView, TicketView
from prakerja.http.auth import caller
from prakerja.http.params import IdempotencyKey, Limit, NextToken
from prakerja.http.schemas import answers
from prakerja.limits import Attempt
from prakerja.metrics import ProgramMetric
from prakerja.observability import logger, metrics

router = Router()


@router.post(
    "/v1/complaints",
    summary="File a complaint (any signed-in account, with or without a profile)",
    responses=answers(
        400, 401, 409, 413, 422, 429, status=201, description="Filed: the ticket, OPEN", model=TicketSummaryView
    ),
    tags=["Grievances"],
)
def file_complaint(body: ComplaintRequest, idempotency_key: IdempotencyKey = None) -> Response[str]:
    account_id = caller(router).account_id

    def file() -> tuple[int, dict[str, Any]]:
        attempt_limiter().attempt(Attempt.COMPLAINT, account_id)
        profile = applicants().find_by_account(account_id)  # for the SMS of an answer, if any
        ticket = grievance_service().file(account_id, profile.applicant_id if profile else None, body)
        metrics.add_metric(name=ProgramMetric.COMPLAINTS_FILED, unit=MetricUnit.Count, value=1)
        logger.info("complaint filed", extra={"ticket_id": ticket.ticket_id, "category": ticket.category})
        return 201, TicketSummaryView.of(summary(ticket)).model_dump(mode="json")

    return idempotent_responses().respond(
        account_id=account_id,
        operation="complaint",
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        produce=file,
    )


@router.get(
    "/v1/complaints",
    summary="My complaints, newest first (without their messages: read one for those)",
    responses=answers(401, 422),
    tags=["Grievances"],
)
def my_complaints(limit: Limit = 50, next_token: NextToken = None) -> TicketList:
    found, token = grievance_service().mine(caller(router).account_id, limit, next_token)
    return TicketList(items=[TicketSummaryView.of(t) for t in found], next_token=token)


@router.get(
    "/v1/complaints/<ticket_id>",
    summary="One of my complaints, with every update",
    responses=answers(401, 404),
    tags=["Grievances"],
)
def my_complaint(ticket_id: str) -> TicketView:
    return TicketView.of(grievance_service().my_ticket(caller(router).account_id, ticket_id))


@router.post(
    "/v1/complaints/<ticket_id>/messages",
    summary="My reply on my complaint; reopens a RESOLVED one within the reopen window",
    responses=answers(400, 401, 404, 409, 413, 422, description="The ticket, replied to", model=TicketSummaryView),
    tags=["Grievances"],
)
def reply(ticket_id: str, body: ReplyRequest, idempotency_key: IdempotencyKey = None) -> Response[str]:
    account_id = caller(router).account_id

    def add_reply() -> tuple[int, dict[str, Any]]:
        ticket = grievance_service().reply(account_id, ticket_id, body.message)
        logger.info("complaint reply", extra={"ticket_id": ticket.ticket_id, "status": ticket.status})
        return 200, TicketSummaryView.of(summary(ticket)).model_dump(mode="json")

    return idempotent_responses().respond(
        account_id=account_id,
        operation=f"complaint-reply:{ticket_id[:64]}",
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        produce=add_reply,
    )
