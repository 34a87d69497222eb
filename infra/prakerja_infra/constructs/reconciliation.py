"""A payment partner's settlement report against the ledger, line by line. Started when the partner
drops its report under ``settlements/`` in the payouts bucket (S3 -> EventBridge), or by
``POST /v1/ops/reconciliations``. Ends in ``DiscrepanciesFound`` (a failed execution, which
alarms) when anything is missing, extra or different. Its function, grants, state machine and
trigger are this construct's."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from prakerja_infra.constructs.data import Data
from prakerja_infra.constructs.functions import FunctionFactory
from prakerja_infra.constructs.grants import allow_bucket_objects
from prakerja_infra.constructs.steps import (
    CORRELATION_ID,
    EXECUTION_NAME,
    data_task,
    justify_state_machine_role,
    standard_state_machine,
)
from prakerja_infra.stage import StageConfig


class ReconciliationWorkflow(Construct):
    NAME = "Reconciliation"

    def __init__(
        self, scope: Construct, construct_id: str, *, stage: StageConfig, data: Data, function: FunctionFactory
    ) -> None:
        super().__init__(scope, construct_id)
        bucket = data.payout_files
        reconcile = function(
            self,
            "ReconcileSettlement",
            "reconciliation.reconcile_settlement.lambda_handler",
            "Reconciliation: a partner's settlement report against the ledger",
            environment={"LEDGER_TABLE": data.ledger.table_name, "PAYOUTS_BUCKET": bucket.bucket_name},
        )
        data.ledger.grant(reconcile, "dynamodb:Query")
        allow_bucket_objects(bucket, reconcile, "s3:GetObject", prefix="settlements/")
        allow_bucket_objects(bucket, reconcile, "s3:PutObject", prefix="reconciliations/")
        self.functions: dict[str, lambda_.Function] = {"ReconcileSettlement": reconcile}

        states = Construct(self, "States")  # a state's name is its construct id, as its function's
        task = data_task(
            states,
            "ReconcileSettlement",
            "Report lines against the ledger's confirmed payouts of that partner and day",
            reconcile,
            {"report_key": sfn.JsonPath.string_at("$.report_key"), CORRELATION_ID: EXECUTION_NAME},
            "$.result",
        )
        outcome = (
            sfn.Choice(states, "AnyDiscrepancy")
            .when(sfn.Condition.string_equals("$.result.status", "BALANCED"), sfn.Succeed(states, "Balanced"))
            .otherwise(
                sfn.Fail(
                    states,
                    "DiscrepanciesFound",
                    error="SettlementDiscrepancies",
                    cause="The settlement report and the ledger differ: see reconciliations/ in the payouts bucket.",
                )
            )
        )
        self.state_machine = standard_state_machine(
            self, stage, data.logs_key, "reconciliation", task.next(outcome), Duration.minutes(30)
        )
        justify_state_machine_role(self.state_machine, [reconcile])
        self.on_report = events.Rule(
            self,
            "OnSettlementReport",
            description="A payment partner's settlement report arrived: reconcile it",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={"bucket": {"name": [bucket.bucket_name]}, "object": {"key": [{"prefix": "settlements/"}]}},
            ),
            targets=[
                targets.SfnStateMachine(
                    self.state_machine,
                    input=events.RuleTargetInput.from_object(
                        {"report_key": events.EventField.from_path("$.detail.object.key")}
                    ),
                )
            ],
        )
