"""Who is calling: the Cognito claims API Gateway's authorizer placed in the event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from prakerja.errors import Forbidden, Unauthorized

OPS_GROUP = "ops"


@dataclass(frozen=True)
class Caller:
    account_id: str  # the Cognito `sub`
    groups: frozenset[str]

    @property
    def is_ops(self) -> bool:
        return OPS_GROUP in self.groups


def _parse_groups(raw: object) -> frozenset[str]:
    # REST API authorizers hand claims over as strings: "ops", "[ops, admin]" or "ops,admin".
    if isinstance(raw, list):
        return frozenset(str(g) for g in raw)
    text = str(raw or "").strip().strip("[]")
    return frozenset(part.strip() for part in text.replace(",", " ").split() if part.strip())


def event_caller(event: Mapping[str, Any]) -> Caller:
    """The authenticated caller of a proxy event. API Gateway rejects requests without a valid
    token before the function runs, so missing claims mean a misconfigured route: 401 anyway."""
    context: dict[str, Any] = event.get("requestContext") or {}
    claims: dict[str, Any] = (context.get("authorizer") or {}).get("claims") or {}
    sub = claims.get("sub")
    if not sub:
        raise Unauthorized("UNAUTHORIZED", "A valid bearer token is required.")
    return Caller(account_id=str(sub), groups=_parse_groups(claims.get("cognito:groups")))


def caller(router: BaseRouter) -> Caller:
    return event_caller(router.current_event.raw_event)


def require_ops(event: Mapping[str, Any]) -> Caller:
    """Every ops route is for the `ops` group; checked on the event before any route parses
    the request, so that an applicant learns nothing from an ops route but 403."""
    current = event_caller(event)
    if not current.is_ops:
        raise Forbidden("OPS_ONLY", "This route is for operations staff.")
    return current


def ops_caller(router: BaseRouter) -> Caller:
    return require_ops(router.current_event.raw_event)
