"""Overdue complaints once the clock moves past their due_by (in this runtime of its own, whose
clock moves for good): the ops queue's `overdue=true` lists them per category's service level,
and the scheduled count reports them."""

from __future__ import annotations

import json

import pytest

from prakerja.program import load_program
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e
HOUR = 3600
LEVELS = {str(category): hours for category, hours in load_program().grievances.service_levels_hours.items()}


def test_tickets_past_their_service_level_are_overdue_and_counted(api: Api) -> None:
    assert LEVELS["ACCOUNT"] < LEVELS["PAYMENT"]
    ops = api.token("overdue-ops@example.com", ["ops"])
    token = api.token()
    ids = {}
    for category in ("ACCOUNT", "PAYMENT"):
        filed = api.call("POST", "/v1/complaints", token, json={"category": category, "message": "Tolong dibantu"})
        assert filed.status_code == 201, filed.text
        ids[category] = filed.json()["ticket_id"]

    def overdue() -> set[str]:
        page = api.call("GET", "/v1/ops/complaints", ops, params={"overdue": "true", "limit": 200})
        assert page.status_code == 200, page.text
        return {row["ticket_id"] for row in page.json()["items"]}

    assert not overdue() & set(ids.values())
    moved = api.call("POST", "/_local/clock", json={"advance_seconds": LEVELS["ACCOUNT"] * HOUR + 60})
    assert moved.status_code == 200, moved.text
    assert overdue() & set(ids.values()) == {ids["ACCOUNT"]}  # PAYMENT's service level is longer

    (count,) = [run for run in moved.json()["ran"] if run["state_machine"].startswith("ComplaintMetrics")]
    assert count["status"] == "SUCCEEDED"
    execution = api.cloud.boto3_client("stepfunctions").describe_execution(executionArn=count["execution_arn"])
    assert json.loads(execution["output"])["overdue"]["by_category"]["ACCOUNT"] >= 1

    api.call("POST", "/_local/clock", json={"advance_seconds": (LEVELS["PAYMENT"] - LEVELS["ACCOUNT"]) * HOUR})
    assert overdue() >= set(ids.values())
    # Answered by ops and waiting for the applicant: no longer late on ops' side.
    waiting = api.call(
        "POST",
        f"/v1/ops/complaints/{ids['PAYMENT']}/updates",
        ops,
        json={"status": "WAITING_FOR_APPLICANT", "message": "Mohon kirim bukti transfer"},
    )
    assert waiting.status_code == 200, waiting.text
    assert ids["PAYMENT"] not in overdue()
