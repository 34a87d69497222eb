"""The audit log: one entry per ops call that changed something, and per approval (API.md, "Ops").

An entry names a person (the ops user's Cognito ``sub``), never an applicant's personal data:
a ``target`` is an id (applicant, ticket, action, wave) or a masked value, a ``reason`` is what
the ops user typed for an action (they are told not to put personal data in it, and it is
bounded). Entries are only ever appended (infra: constructs/grants.py ``allow_audit_append``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

# How long an entry is kept (TTL): GovStack asks for a year at least; two leave room for an audit
# of the year before.
AUDIT_RETENTION_DAYS = 730
REASON_MAX = 500


class AuditEntry(BaseModel):
    """``{at, actor, action, target, reason, request_id}`` (API.md). ``action`` names what was
    done (``REVOKE_CARD_REQUESTED``, ``POST /v1/ops/waves``...); ``seq`` tells apart two entries
    of one request (an approval and the change it lets through)."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    actor: str = Field(min_length=1, max_length=128)
    action: str = Field(min_length=1, max_length=128)
    target: str = Field(max_length=256)
    reason: str | None = Field(default=None, max_length=REASON_MAX)
    request_id: str = Field(min_length=1, max_length=128)
    seq: int = Field(default=0, ge=0)


class AuditQuery(BaseModel):
    """The filters of ``GET /v1/ops/audit-log``."""

    model_config = ConfigDict(frozen=True)

    actor: str | None = None
    action: str | None = None
    since: datetime | None = None


class AuditTrail(Protocol):
    def record(self, entry: AuditEntry) -> None:
        """Append ``entry`` once: a repeat of the same request's entry (a retried call of a
        function that already wrote it) writes nothing."""

    def entries(self, query: AuditQuery, limit: int, next_token: str | None) -> tuple[list[AuditEntry], str | None]:
        """Entries matching ``query``, newest first, a page at a time."""
