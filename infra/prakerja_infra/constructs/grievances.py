"""Complaints' overdue count: every 10 minutes, a one-step workflow counts the tickets awaiting
ops past their category's service level (functions/complaint_metrics) with COUNT queries of the
cases table's queue index, and reports ComplaintsOverdue, which the observability construct
alarms on. A state machine (not a bare Lambda target) so that the local runtime's clock runs it
like every other schedule. Its function, grant, state machine and schedule are this construct's.
The complaint routes themselves are the API functions' (constructs/api_functions.py)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from prakerja_infra.constructs.data import Data
from prakerja_infra.constructs.functions import FunctionFactory
from prakerja_infra.constructs.grants import allow_index_query
from prakerja_infra.constructs.steps import (
    CORRELATION_ID,
    EXECUTION_NAME,
    data_task,
    justify_state_machine_role,
    standard_state_machine,
)
from prakerja_infra.stage import StageConfig

COUNT_EVERY = Duration.minutes(10)


class ComplaintMetrics(Construct):
    NAME = "ComplaintMetrics"

    def __init__(
        self, scope: Construct, construct_id: str, *, stage: StageConfig, data: Data, function: FunctionFactory
    ) -> None:
        super().__init__(scope, construct_id)
        count = function(
            self,
            "CountOverdueComplaints",
            "complaint_metrics.count_overdue.lambda_handler",
            "Complaints: tickets awaiting ops past their service level, counted per category",
            environment={"CASES_TABLE": data.cases.table_name},
        )
        allow_index_query(data.cases, "ComplaintQueue", count)  # COUNT queries; no item, no message
        self.functions: dict[str, lambda_.Function] = {"CountOverdueComplaints": count}

        states = Construct(self, "States")
        task = data_task(
            states,
            "CountOverdueComplaints",
            "Per category, the tickets OPEN or IN_PROGRESS queued before now minus its service level",
            count,
            {CORRELATION_ID: EXECUTION_NAME},
            "$.overdue",
        )
        self.state_machine = standard_state_machine(
            self, stage, data.logs_key, "complaint-metrics", task, Duration.minutes(10)
        )
        justify_state_machine_role(self.state_machine, [count])
        self.schedule = events.Rule(
            self,
            "Every10Minutes",
            description="Complaints: count the overdue tickets",
            schedule=events.Schedule.rate(COUNT_EVERY),
            targets=[targets.SfnStateMachine(self.state_machine)],
        )
