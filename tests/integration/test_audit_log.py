"""The audit log on moto, from the synthesized table: entries appended once, listed newest first by
time, actor and action without a scan, a page at a time; a token of one list is refused by another."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localcloud.provision import Resources
from prakerja.adapters.dynamodb_audit import DynamoDBAuditLog
from prakerja.audit.models import AUDIT_RETENTION_DAYS, AuditEntry, AuditQuery
from prakerja.errors import ValidationFailed
from tests.integration.conftest import physical

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def audit(aws: Resources, clients: dict[str, Any]) -> DynamoDBAuditLog:
    return DynamoDBAuditLog(clients["dynamodb"], physical(aws, "DataAuditLogTable"))


def entry(minutes: int, actor: str = "ops-1", action: str = "POST /v1/ops/waves", seq: int = 0) -> AuditEntry:
    return AuditEntry(
        at=T0 + timedelta(minutes=minutes),
        actor=actor,
        action=action,
        target=f"waves/w-{minutes}",
        request_id=f"req-{minutes}",
        seq=seq,
    )


def test_an_entry_is_written_once_and_expires_after_the_retention(
    audit: DynamoDBAuditLog, aws: Resources, clients: dict[str, Any]
) -> None:
    audit.record(entry(1))
    audit.record(entry(1))  # the same request's entry again: nothing more
    items = clients["dynamodb"].scan(TableName=physical(aws, "DataAuditLogTable"))["Items"]
    assert len(items) == 1
    assert int(items[0]["expires_at"]["N"]) == int(T0.timestamp()) + 60 + AUDIT_RETENTION_DAYS * 86400
    (found,), _ = audit.entries(AuditQuery(), 10, None)
    assert found == entry(1)


def test_lists_newest_first_by_actor_action_and_since_a_page_at_a_time(audit: DynamoDBAuditLog) -> None:
    for minute in range(6):
        audit.record(entry(minute, actor=f"ops-{minute % 2}", action=("A", "B", "C")[minute % 3]))

    page, token = audit.entries(AuditQuery(), 4, None)
    assert [e.request_id for e in page] == ["req-5", "req-4", "req-3", "req-2"]
    rest, last = audit.entries(AuditQuery(), 4, token)
    assert [e.request_id for e in rest] == ["req-1", "req-0"] and last is None

    by_actor, _ = audit.entries(AuditQuery(actor="ops-1"), 10, None)
    assert [e.request_id for e in by_actor] == ["req-5", "req-3", "req-1"]
    by_action, _ = audit.entries(AuditQuery(action="A"), 10, None)
    assert [e.request_id for e in by_action] == ["req-3", "req-0"]
    both, _ = audit.entries(AuditQuery(actor="ops-1", action="C"), 10, None)
    assert [e.request_id for e in both] == ["req-5"]
    # `since` in another offset means the same instant.
    since = (T0 + timedelta(minutes=4)).astimezone(datetime.now().astimezone().tzinfo)
    recent, _ = audit.entries(AuditQuery(since=since), 10, None)
    assert [e.request_id for e in recent] == ["req-5", "req-4"]

    _, actor_token = audit.entries(AuditQuery(actor="ops-1"), 1, None)
    assert actor_token is not None
    with pytest.raises(ValidationFailed):
        audit.entries(AuditQuery(actor="ops-0"), 1, actor_token)
    with pytest.raises(ValidationFailed):
        audit.entries(AuditQuery(), 1, "bm90IGEgdG9rZW4=")
