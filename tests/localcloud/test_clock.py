"""The application clock in the runtime: every invocation path sees program time, and
`POST /_local/clock` fires the template's scheduled rules (its own runtime: time moves here)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import requests

DAY = 86400


def program_now_seen_by_handlers(cloud) -> dict[str, datetime]:
    """`SystemClock().now()` as each invocation path hands it to a handler."""
    through_api = requests.get(f"{cloud.api_url}/items/clock", timeout=10).json()["program_now"]
    direct = cloud.invoke("StepTwoFunctionBBBB2222", {"run_id": "clock", "attempts": 1})["program_now"]
    lam = cloud.boto3_client("lambda")
    payload = json.dumps({"run_id": "clock", "attempts": 1})
    through_moto = json.loads(
        lam.invoke(FunctionName="Fake-test-StepTwoFunctionBBBB2222", Payload=payload)["Payload"].read()
    )
    seen = {"api": through_api, "invoke": direct, "moto": through_moto["program_now"]}
    return {path: datetime.fromisoformat(value) for path, value in seen.items()}


def assert_near(moment: datetime, expected: datetime, label: str = "") -> None:
    assert abs(moment - expected) < timedelta(seconds=30), (label, moment, expected)


def test_clock_starts_at_wall_time(cloud):
    answer = requests.get(f"{cloud.api_url}/_local/clock", timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert body["offset_seconds"] == 0
    assert body["now"].endswith("Z")
    assert_near(datetime.fromisoformat(body["now"]), datetime.now(UTC))
    for path, moment in program_now_seen_by_handlers(cloud).items():
        assert_near(moment, datetime.now(UTC), path)


def test_advancing_runs_due_rules_and_handlers_see_program_time(cloud):
    assert cloud.clock.offset_seconds == 0  # the first advance of this module's runtime
    answer = requests.post(f"{cloud.api_url}/_local/clock", json={"advance_seconds": 3 * DAY}, timeout=150)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["offset_seconds"] == 3 * DAY
    expected = datetime.now(UTC) + timedelta(days=3)
    assert_near(datetime.fromisoformat(body["now"]), expected)
    # three 17:00s passed: the nightly rule ran once; a week has not: the weekly one did not
    assert [(r["rule"], r["state_machine"], r["status"]) for r in body["ran"]] == [
        ("NightlySweepRuleA1B2C3D4", "WorkflowStateMachine5E5E5E5E", "SUCCEEDED")
    ]
    execution = cloud.boto3_client("stepfunctions").describe_execution(executionArn=body["ran"][0]["execution_arn"])
    output = json.loads(execution["output"])
    assert output["run_id"] == "nightly-sweep"  # the rule target's Input
    assert_near(datetime.fromisoformat(output["program_now"]), expected)  # Step Functions' Lambda tasks too

    for path, moment in program_now_seen_by_handlers(cloud).items():
        assert_near(moment, expected, path)
    assert cloud.clock.offset_seconds == 3 * DAY
    assert requests.get(f"{cloud.api_url}/_local/clock", timeout=10).json()["offset_seconds"] == 3 * DAY


def test_advancing_by_zero_runs_nothing(cloud):
    before = cloud.clock.offset_seconds
    body = requests.post(f"{cloud.api_url}/_local/clock", json={"advance_seconds": 0}, timeout=10).json()
    assert body["ran"] == []
    assert body["offset_seconds"] == before


def test_a_week_fires_the_rate_rule_too(cloud):
    body = cloud.clock.advance(7 * DAY)
    assert sorted(r["rule"] for r in body["ran"]) == ["NightlySweepRuleA1B2C3D4", "WeeklySweepRuleE5F6A7B8"]
    assert {r["status"] for r in body["ran"]} == {"SUCCEEDED"}


def test_clock_input_is_validated(cloud):
    before = cloud.clock.offset_seconds
    url = f"{cloud.api_url}/_local/clock"
    for bad in (
        {},
        {"advance_seconds": -1},
        {"advance_seconds": 1.5},
        {"advance_seconds": "60"},
        {"advance_seconds": True},
        {"advance_seconds": 3650 * DAY + 1},
    ):
        answer = requests.post(url, json=bad, timeout=10)
        assert answer.status_code == 422, bad
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.json()["code"] == "VALIDATION_FAILED"
        assert answer.json()["errors"][0]["field"] == "advance_seconds"
    malformed = requests.post(url, data="{nope", timeout=10)
    assert malformed.status_code == 400
    assert malformed.json()["code"] == "MALFORMED_JSON"
    assert requests.put(url, json={"advance_seconds": 1}, timeout=10).status_code == 405
    assert cloud.clock.offset_seconds == before
