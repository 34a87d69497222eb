"""The audit log for ops (API.md, "Ops": ``GET /v1/ops/audit-log``)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from ops_api.dependencies import audit_trail
from prakerja.audit.models import AuditQuery
from prakerja.clock import IsoDateTime, iso
from prakerja.http.auth import ops_caller
from prakerja.http.params import Limit, NextToken
from prakerja.http.schemas import answers

router = Router()


class AuditEntryView(BaseModel):
    at: str
    actor: str
    action: str
    target: str
    reason: str | None
    request_id: str


class AuditLogPage(BaseModel):
    items: list[AuditEntryView]
    next_token: str | None = None


@router.get(
    "/v1/ops/audit-log",
    summary="Every ops call that changed something, newest first; by actor, action or since a time",
    responses=answers(401, 403, 422),
    tags=["Ops"],
)
def audit_log(
    actor: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    action: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    since: Annotated[IsoDateTime | None, Query()] = None,
    limit: Limit = 50,
    next_token: NextToken = None,
) -> AuditLogPage:
    ops_caller(router)
    entries, token = audit_trail().entries(AuditQuery(actor=actor, action=action, since=since), limit, next_token)
    items = [
        AuditEntryView(
            at=iso(e.at), actor=e.actor, action=e.action, target=e.target, reason=e.reason, request_id=e.request_id
        )
        for e in entries
    ]
    return AuditLogPage(items=items, next_token=token)
