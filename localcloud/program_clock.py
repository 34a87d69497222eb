"""The application clock of the local runtime, and the scheduled jobs it fires.

Program time is wall time plus an offset that only `advance` moves (`POST /_local/clock`).
Every Lambda invocation carries the offset to its worker, which hands it to
`prakerja.clock.simulate_offset` before the handler runs, so `SystemClock().now()` in any
handler is program time.

Scheduled jobs come from the template: each `AWS::Events::Rule` with a `ScheduleExpression`
and a target that is a state machine. moto has no scheduler, so `advance` fires them: a job
whose schedule fires at least once in (old program time, new program time] runs once (the
jobs sweep "everything due as of now", so one run covers several missed fire times), in the
order of their first fire time, each waited for before the next starts.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from localcloud.provision import Resources
from localcloud.schedules import Schedule, UnsupportedSchedule, parse_schedule

LOG = logging.getLogger("localcloud.clock")
MAX_ADVANCE_SECONDS = 3650 * 86400  # ten years: a sane bound for one request
JOB_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class ScheduledJob:
    rule: str
    """The rule's logical id."""
    rule_arn: str
    expression: str
    schedule: Schedule | None
    """None when the expression is not understood: then the job is due on every advance."""
    state_machine: str
    """The target state machine's logical id."""
    state_machine_arn: str
    input: str | None
    """The target's `Input`; None: the state machine gets the scheduled event, as on AWS."""


def scheduled_jobs(resources: Resources, *, rate_anchor: datetime) -> list[ScheduledJob]:
    """Every (rule, state machine target) of the template; found by type, never by name."""
    jobs = []
    for rule in resources.of_type("AWS::Events::Rule"):
        expression = rule.properties.get("ScheduleExpression")
        if not isinstance(expression, str):
            continue  # an event-pattern rule, not a schedule
        if str(rule.properties.get("State", "ENABLED")) != "ENABLED":
            continue
        try:
            schedule: Schedule | None = parse_schedule(expression, rate_anchor=rate_anchor)
        except UnsupportedSchedule as error:
            LOG.warning("rule %s: %s; it runs on every clock advance", rule.logical_id, error)
            schedule = None
        for target in rule.properties.get("Targets", []):
            machine = resources.by_arn(str(target.get("Arn")))
            if machine is None or machine.type != "AWS::StepFunctions::StateMachine":
                LOG.warning("rule %s: target %s is not a state machine; not fired locally", rule.logical_id, target)
                continue
            if "InputPath" in target or "InputTransformer" in target:
                LOG.warning("rule %s: InputPath/InputTransformer are ignored locally", rule.logical_id)
            given = target.get("Input")
            jobs.append(
                ScheduledJob(
                    rule=rule.logical_id,
                    rule_arn=str(rule.arn),
                    expression=expression,
                    schedule=schedule,
                    state_machine=machine.logical_id,
                    state_machine_arn=machine.ref,
                    input=given if isinstance(given, str) else None,
                )
            )
    return jobs


class ProgramClock:
    """Thread-safe: the offset is read by every invocation while an advance may be running."""

    def __init__(
        self,
        jobs: Sequence[ScheduledJob],
        stepfunctions: Callable[[], Any],
        *,
        account_id: str,
        region: str,
        job_timeout: float = JOB_TIMEOUT_S,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.jobs = list(jobs)
        self._stepfunctions = stepfunctions
        self._account_id = account_id
        self._region = region
        self._job_timeout = job_timeout
        self._wall = wall_clock
        self._offset_s = 0
        self._lock = threading.Lock()  # guards _offset_s
        self._advancing = threading.Lock()  # one advance (and its jobs) at a time

    @property
    def offset_seconds(self) -> int:
        with self._lock:
            return self._offset_s

    def now(self) -> datetime:
        return self._wall() + timedelta(seconds=self.offset_seconds)

    def state(self) -> dict[str, Any]:
        """`GET /_local/clock`."""
        with self._lock:
            offset = self._offset_s
        return {"now": _iso(self._wall() + timedelta(seconds=offset)), "offset_seconds": offset}

    def advance(self, seconds: int) -> dict[str, Any]:
        """Moves program time forward, then runs the jobs that fell due; `POST /_local/clock`."""
        if not 0 <= seconds <= MAX_ADVANCE_SECONDS:
            raise ValueError(f"advance_seconds must be 0..{MAX_ADVANCE_SECONDS}")
        with self._advancing:
            with self._lock:
                wall = self._wall()  # one instant for both ends, so only the advance counts
                before = wall + timedelta(seconds=self._offset_s)
                self._offset_s += seconds
                after = wall + timedelta(seconds=self._offset_s)
            ran = [self._run(job, after) for job, _ in self.due(before, after)]
        return {**self.state(), "ran": ran}

    def due(self, after: datetime, until: datetime) -> list[tuple[ScheduledJob, datetime]]:
        """Jobs firing in (after, until] with their first fire time, earliest first."""
        if until <= after:
            return []
        found = []
        for job in self.jobs:
            if job.schedule is None:
                LOG.warning("rule %s (%s) runs: its schedule is not understood", job.rule, job.expression)
                fire: datetime | None = until
            else:
                fire = job.schedule.first_fire(after, until)
            if fire is not None:
                found.append((job, fire))
        return sorted(found, key=lambda pair: (pair[1], pair[0].rule))

    def _run(self, job: ScheduledJob, program_now: datetime) -> dict[str, Any]:
        sfn = self._stepfunctions()
        document = job.input if job.input is not None else json.dumps(self._scheduled_event(job, program_now))
        arn = str(sfn.start_execution(stateMachineArn=job.state_machine_arn, input=document)["executionArn"])
        LOG.info("clock: rule %s started %s", job.rule, arn)
        deadline = time.monotonic() + self._job_timeout
        while (status := str(sfn.describe_execution(executionArn=arn)["status"])) == "RUNNING":
            if time.monotonic() > deadline:
                LOG.warning("clock: %s still running after %.0f s", arn, self._job_timeout)
                break
            time.sleep(0.1)
        return {"rule": job.rule, "state_machine": job.state_machine, "execution_arn": arn, "status": status}

    def _scheduled_event(self, job: ScheduledJob, program_now: datetime) -> dict[str, Any]:
        """What EventBridge hands a target that has no `Input`."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self._account_id,
            "time": _iso(program_now),
            "region": self._region,
            "resources": [job.rule_arn],
            "detail": {},
        }


def _iso(moment: datetime) -> str:
    """ISO 8601 UTC with a Z, as the API contract writes times."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
