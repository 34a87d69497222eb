"""Ops actions on an applicant, four eyes for some (API.md, "Ops"; prakerja.cases), and removals
from the exclusion lists. The action routes write their own audit entries in the transaction of
their change (ops_api/audit.py RECORDED_BY_ROUTE); a removal is recorded like any ops change."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from ops_api.dependencies import action_service, exclusion_lists
from prakerja.cases.models import (
    Action,
    ActionKind,
    ActionNotFound,
    ActionRequest,
    ActionStatus,
    ApplicantNotFound,
    ApprovalRequest,
    RejectionRequest,
)
from prakerja.clock import iso
from prakerja.exclusions import ExclusionListRemoved, ExclusionListUpload
from prakerja.http.app import model_response
from prakerja.http.auth import ops_caller
from prakerja.http.params import Limit, NextToken
from prakerja.http.schemas import answers
from prakerja.metrics import OperationalMetric
from prakerja.observability import logger, metrics

router = Router()
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # applicant and action ids: anything else is unknown


class ActionAccepted(BaseModel):
    action_id: str
    status: ActionStatus


class ActionView(BaseModel):
    action_id: str
    applicant_id: str
    action: ActionKind
    status: ActionStatus
    reason: str
    requested_by: str
    requested_at: str
    decided_by: str | None = None
    decided_at: str | None = None
    decision_reason: str | None = None
    lapsed_code: str | None = None

    @classmethod
    def of(cls, a: Action) -> ActionView:
        return cls(
            action_id=a.action_id,
            applicant_id=a.applicant_id,
            action=a.kind,
            status=a.status,
            reason=a.reason,
            requested_by=a.requested_by,
            requested_at=iso(a.requested_at),
            decided_by=a.decided_by,
            decided_at=_iso(a.decided_at),
            decision_reason=a.decision_reason,
            lapsed_code=a.lapsed_code,
        )


class ActionPage(BaseModel):
    items: list[ActionView]
    next_token: str | None = None


def _iso(moment: datetime | None) -> str | None:
    return iso(moment) if moment else None


def _request_id() -> str:
    context = router.current_event.raw_event.get("requestContext") or {}
    return str(context.get("requestId") or "unknown")


@router.post(
    "/v1/ops/applicants/<applicant_id>/actions",
    summary="Ask for an action on an applicant; REVOKE_CARD and LIFT_BLACKLIST wait for a second ops user",
    responses=answers(
        400, 401, 403, 404, 409, 413, 422, status=202, description="Action accepted", model=ActionAccepted
    ),
    tags=["Ops"],
)
def request_action(applicant_id: str, body: ActionRequest) -> Response[str]:
    caller = ops_caller(router)
    if not _ID.match(applicant_id):
        raise ApplicantNotFound()
    action = action_service().request(applicant_id, body, caller.account_id, _request_id())
    metrics.add_metric(name=OperationalMetric.OPS_ACTIONS_REQUESTED, unit=MetricUnit.Count, value=1)
    logger.info("ops action requested", extra={"action_id": action.action_id, "action": str(action.kind)})
    return model_response(202, ActionAccepted(action_id=action.action_id, status=action.status))


@router.get(
    "/v1/ops/actions",
    summary="The approvals queue: actions waiting for a second ops user, oldest first",
    responses=answers(401, 403, 422),
    tags=["Ops"],
)
def pending_actions(
    status: Annotated[Literal["PENDING_APPROVAL"], Query()] = "PENDING_APPROVAL",
    limit: Limit = 50,
    next_token: NextToken = None,
) -> ActionPage:
    ops_caller(router)
    actions, token = action_service().pending(limit, next_token)
    return ActionPage(items=[ActionView.of(a) for a in actions], next_token=token)


@router.get(
    "/v1/ops/actions/<action_id>",
    summary="One action: what was asked, by whom, and its decision",
    responses=answers(401, 403, 404),
    tags=["Ops"],
)
def get_action(action_id: str) -> ActionView:
    ops_caller(router)
    if not _ID.match(action_id):
        raise ActionNotFound()
    return ActionView.of(action_service().get(action_id))


@router.post(
    "/v1/ops/actions/<action_id>/approve",
    summary="Approve a waiting action as a second ops user: it runs now",
    responses=answers(400, 401, 403, 404, 409, 413, 422),
    tags=["Ops"],
)
def approve_action(action_id: str, body: ApprovalRequest) -> ActionView:
    caller = ops_caller(router)
    if not _ID.match(action_id):
        raise ActionNotFound()
    action = action_service().approve(action_id, caller.account_id, body.reason, _request_id())
    metrics.add_metric(name=OperationalMetric.OPS_ACTIONS_APPROVED, unit=MetricUnit.Count, value=1)
    logger.info("ops action approved", extra={"action_id": action_id, "action": str(action.kind)})
    return ActionView.of(action)


@router.post(
    "/v1/ops/actions/<action_id>/reject",
    summary="Reject a waiting action (its requester may withdraw it): it never runs",
    responses=answers(400, 401, 403, 404, 409, 413, 422),
    tags=["Ops"],
)
def reject_action(action_id: str, body: RejectionRequest) -> ActionView:
    caller = ops_caller(router)
    if not _ID.match(action_id):
        raise ActionNotFound()
    action = action_service().reject(action_id, caller.account_id, body.reason, _request_id())
    logger.info("ops action rejected", extra={"action_id": action_id, "action": str(action.kind)})
    return ActionView.of(action)


@router.post(
    "/v1/ops/exclusion-lists/<source>/removals",
    summary="Take NIKs off an agency's exclusion list (under every key they were stored with)",
    responses=answers(400, 401, 403, 404, 413, 422),
    tags=["Ops"],
)
def remove_from_exclusion_list(source: str, body: ExclusionListUpload) -> ExclusionListRemoved:
    ops_caller(router)
    result = exclusion_lists().remove(source, body)
    metrics.add_metric(name=OperationalMetric.EXCLUSIONS_REMOVED, unit=MetricUnit.Count, value=result.removed)
    logger.info("exclusion list entries removed", extra={"source": result.source, "count": result.removed})
    return result
