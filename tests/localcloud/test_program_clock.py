"""The application clock: which scheduled jobs an advance runs, and what they are given."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localcloud.program_clock import MAX_ADVANCE_SECONDS, ProgramClock, ScheduledJob, scheduled_jobs
from localcloud.provision import provision
from localcloud.schedules import parse_schedule

WALL = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY = 86400


def clients(service):
    return boto3.client(service, region_name="ap-southeast-3")


class FakeStepFunctions:
    def __init__(self) -> None:
        self.started: list[tuple[str, dict[str, Any]]] = []

    def start_execution(self, stateMachineArn: str, input: str):
        self.started.append((stateMachineArn, json.loads(input)))
        return {"executionArn": f"{stateMachineArn}:run-{len(self.started)}"}

    def describe_execution(self, executionArn: str):
        return {"status": "SUCCEEDED"}


def job(rule: str, expression: str, input: str | None = None) -> ScheduledJob:
    try:
        schedule = parse_schedule(expression, rate_anchor=WALL)
    except ValueError:
        schedule = None
    return ScheduledJob(
        rule=rule,
        rule_arn=f"arn:aws:events:ap-southeast-3:123456789012:rule/{rule}",
        expression=expression,
        schedule=schedule,
        state_machine=f"{rule}Machine",
        state_machine_arn=f"arn:aws:states:ap-southeast-3:123456789012:stateMachine:{rule}",
        input=input,
    )


def clock_of(*jobs: ScheduledJob) -> tuple[ProgramClock, FakeStepFunctions]:
    sfn = FakeStepFunctions()
    clock = ProgramClock(jobs, lambda: sfn, account_id="123456789012", region="ap-southeast-3", wall_clock=lambda: WALL)
    return clock, sfn


def test_advance_moves_program_time_and_runs_each_due_job_once():
    deadlines = job("CardDeadlinesRule", "cron(0 17 * * ? *)", '{"sweep": "deadlines"}')
    payouts = job("PayoutsRule", "cron(0 1 * * ? *)")
    clock, sfn = clock_of(deadlines, payouts)
    assert clock.state() == {"now": "2026-03-02T12:00:00Z", "offset_seconds": 0}

    answer = clock.advance(3 * DAY)  # three 17:00s and three 01:00s skipped: one run each
    assert answer["now"] == "2026-03-05T12:00:00Z"
    assert answer["offset_seconds"] == 3 * DAY
    assert clock.now() == WALL + timedelta(days=3)
    # in the order they first fell due: 17:00 on the 2nd, then 01:00 on the 3rd
    assert [r["rule"] for r in answer["ran"]] == ["CardDeadlinesRule", "PayoutsRule"]
    assert answer["ran"][0] == {
        "rule": "CardDeadlinesRule",
        "state_machine": "CardDeadlinesRuleMachine",
        "execution_arn": f"{deadlines.state_machine_arn}:run-1",
        "status": "SUCCEEDED",
    }
    assert sfn.started[0] == (deadlines.state_machine_arn, {"sweep": "deadlines"})  # the target's Input
    event = sfn.started[1][1]  # no Input: the scheduled event, as EventBridge sends it
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == [payouts.rule_arn]
    assert event["time"] == "2026-03-05T12:00:00Z"  # program time


def test_jobs_not_due_do_not_run_and_zero_runs_nothing():
    clock, sfn = clock_of(job("Nightly", "cron(0 17 * * ? *)"), job("Weekly", "rate(7 days)"))
    assert clock.advance(0)["ran"] == []
    assert [r["rule"] for r in clock.advance(4 * 3600)["ran"]] == []  # 12:00 -> 16:00
    assert [r["rule"] for r in clock.advance(3600)["ran"]] == ["Nightly"]  # 16:00 -> 17:00
    assert [r["rule"] for r in clock.advance(6 * DAY)["ran"]] == ["Nightly"]  # the week is not over
    assert [r["rule"] for r in clock.advance(DAY)["ran"]] == ["Weekly", "Nightly"]  # 12:00 on the 9th, then 17:00
    assert clock.offset_seconds == 7 * DAY + 5 * 3600
    assert len(sfn.started) == 4


def test_a_schedule_not_understood_runs_on_every_non_zero_advance(caplog):
    clock, _ = clock_of(job("Odd", "cron(0 17 L * ? *)"))
    assert clock.jobs[0].schedule is None
    assert clock.advance(0)["ran"] == []
    assert [r["rule"] for r in clock.advance(1)["ran"]] == ["Odd"]
    assert "not understood" in caplog.text


def test_advance_bounds():
    clock, _ = clock_of()
    with pytest.raises(ValueError, match="advance_seconds"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="advance_seconds"):
        clock.advance(MAX_ADVANCE_SECONDS + 1)
    assert clock.advance(MAX_ADVANCE_SECONDS)["offset_seconds"] == MAX_ADVANCE_SECONDS


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield


def test_jobs_come_from_the_template_by_type(aws, template_body):
    resources = provision(template_body, clients, stack_name="T")
    machine = resources.find("WorkflowStateMachine")
    jobs = {j.rule: j for j in scheduled_jobs(resources, rate_anchor=WALL)}
    assert set(jobs) == {"NightlySweepRuleA1B2C3D4", "WeeklySweepRuleE5F6A7B8"}  # not the event-pattern rule
    nightly, weekly = jobs["NightlySweepRuleA1B2C3D4"], jobs["WeeklySweepRuleE5F6A7B8"]
    assert nightly.expression == "cron(0 17 * * ? *)"
    assert (nightly.state_machine, nightly.state_machine_arn) == (machine.logical_id, machine.ref)  # Ref
    assert (weekly.state_machine, weekly.state_machine_arn) == (machine.logical_id, machine.ref)  # Fn::GetAtt
    assert json.loads(str(nightly.input)) == {"run_id": "nightly-sweep"}
    assert nightly.rule_arn.startswith("arn:aws:events:ap-southeast-3:")
    assert not resources["NightlySweepRuleA1B2C3D4"].provisioned  # fired by the runtime, not moto


def test_disabled_rules_and_other_targets_are_not_jobs(aws, template_body):
    body = json.loads(json.dumps(template_body))
    rules = body["Resources"]
    rules["NightlySweepRuleA1B2C3D4"]["Properties"]["State"] = "DISABLED"
    rules["WeeklySweepRuleE5F6A7B8"]["Properties"]["Targets"][0]["Arn"] = {
        "Fn::GetAtt": ["StepOneFunctionAAAA1111", "Arn"]
    }
    resources = provision(body, clients, stack_name="T")
    assert scheduled_jobs(resources, rate_anchor=WALL) == []
