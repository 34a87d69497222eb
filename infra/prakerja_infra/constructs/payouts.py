"""A payout run: collect the payouts due, then for each one (Distributed Map over the run's list in
S3) send the transfer and wait for the partner's callback (task token, timeout from the item),
asking the partner when no callback comes. Started by ``POST /v1/ops/payout-runs`` and every 15
minutes. Safe to re-run at any point: every step is conditional on the payout's state and every
transfer is sent under the same transfer id (docs/payouts.md). The three step functions, their
grants, the state machine and its schedule are this construct's."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from prakerja_infra.constructs.data import Data
from prakerja_infra.constructs.functions import FunctionFactory
from prakerja_infra.constructs.grants import (
    allow_bucket_objects,
    allow_index_query,
    allow_ledger_postings,
    allow_table,
    allow_task_success,
)
from prakerja_infra.constructs.partners import PartnerSecrets
from prakerja_infra.constructs.steps import (
    LAMBDA_THROTTLED,
    data_task,
    justify_distributed_map,
    justify_state_machine_role,
    standard_state_machine,
)
from prakerja_infra.stage import StageConfig

# Raised by the transfer steps (prakerja.payouts.ports): retried, each time with the same transfer id.
PARTNER_UNAVAILABLE = "PartnerUnavailable"
RATE_LIMITED = "RateLimited"
TRANSFER_PENDING = "TransferPending"
STATE_MACHINE_NAME = "payouts"


class PayoutWorkflow(Construct):
    NAME = "Payouts"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        data: Data,
        function: FunctionFactory,
        partners: PartnerSecrets,
        payment_partners: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        bucket = data.payout_files
        steps = {
            "LEDGER_TABLE": data.ledger.table_name,
            "PAYOUTS_BUCKET": bucket.bucket_name,
            "PERSONAL_DATA_KEY_ARN": data.personal_data_key.key_arn,
            **payment_partners,
        }
        collect = function(
            self,
            "CollectDuePayouts",
            "payout_workflow.collect_due.lambda_handler",
            "Payout workflow: the payouts due now, listed for the run",
            environment={**steps, "PAYOUT_CALLBACK_TIMEOUT_SECONDS": str(stage.payout_callback_timeout_seconds)},
        )
        allow_index_query(data.payouts, "PayoutsDue", collect)
        allow_bucket_objects(bucket, collect, "s3:PutObject", prefix="payout-runs/")
        # Each run first checks the ledger's books: the running totals, read by key.
        allow_table(data.ledger, collect, "dynamodb:BatchGetItem")
        # A transfer settled at once resumes its own wait. Named, not referenced: the state
        # machine's definition already refers to these functions (no dependency cycle).
        own_arn = Stack.of(self).format_arn(
            service="states",
            resource="stateMachine",
            resource_name=f"prakerja-{stage.name}-{STATE_MACHINE_NAME}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        transfer_steps = {}
        for construct_id_, module, description in (
            ("SendTransfer", "send_transfer", "a transfer requested from the payment partner"),
            ("CheckTransfer", "check_transfer", "a transfer's status asked from the payment partner"),
        ):
            step = function(
                self,
                construct_id_,
                f"payout_workflow.{module}.lambda_handler",
                f"Payout workflow: {description}",
                environment=steps,
            )
            # The payout and its transfer guard, the rate-limit counters; the ledger postings.
            allow_table(data.payouts, step, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
            if module == "send_transfer":  # a transfer begins only while no ops hold is there
                allow_table(data.payouts, step, "dynamodb:ConditionCheckItem")
            allow_ledger_postings(data.ledger, step)
            data.personal_data_key.grant(step, "kms:Decrypt")  # the account number, sent to the partner
            partners.grant_read(step, partner_type="PAYMENT")
            allow_task_success(step, own_arn)
            transfer_steps[construct_id_] = step
        send, check = transfer_steps["SendTransfer"], transfer_steps["CheckTransfer"]
        self.functions: dict[str, lambda_.Function] = {"CollectDuePayouts": collect, **transfer_steps}

        states = Construct(self, "States")  # a state's name is its construct id, as its function's
        collect_task = data_task(
            states,
            "CollectDuePayouts",
            "The payouts due now, written as the run's list (ids only)",
            collect,
            {"run_id": sfn.JsonPath.string_at("$$.Execution.Name")},
            "$.collected",
        )
        item = {
            "applicant_id": sfn.JsonPath.string_at("$.applicant_id"),
            "payout_id": sfn.JsonPath.string_at("$.payout_id"),
            "callback_timeout_seconds": sfn.JsonPath.number_at("$.callback_timeout_seconds"),
            # The run's execution name, written into each item by the collect step: the child
            # executions' logs carry their run's correlation id.
            "run_id": sfn.JsonPath.string_at("$.run_id"),
        }
        send_task = tasks.LambdaInvoke(
            states,
            "SendTransfer",
            comment="The transfer requested from the partner; waits for its callback",
            lambda_function=send,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object({**item, "task_token": sfn.JsonPath.task_token}),
            task_timeout=sfn.Timeout.at("$.callback_timeout_seconds"),
            result_path="$.settled",
        )
        send_task.add_retry(errors=[RATE_LIMITED], interval=Duration.seconds(1), max_attempts=30, backoff_rate=1.2)
        send_task.add_retry(
            errors=[PARTNER_UNAVAILABLE], interval=Duration.seconds(2), max_attempts=3, backoff_rate=2.0
        )
        send_task.add_retry(errors=[LAMBDA_THROTTLED], interval=Duration.seconds(2), max_attempts=6, backoff_rate=2.0)
        check_task = tasks.LambdaInvoke(
            states,
            "CheckTransfer",
            comment="No callback in time: the partner is asked how the transfer stands",
            lambda_function=check,
            payload=sfn.TaskInput.from_object(item),
            payload_response_only=True,
            result_path="$.settled",
        )
        check_task.add_retry(
            errors=[TRANSFER_PENDING, PARTNER_UNAVAILABLE, LAMBDA_THROTTLED],
            interval=Duration.seconds(5),
            max_attempts=5,
            backoff_rate=2.0,
        )
        settled = sfn.Succeed(states, "Settled", comment="PAID or FAILED with its code, recorded with its posting")
        # Still with the partner: the payout stays PROCESSING and a later run asks again.
        still_processing = sfn.Succeed(states, "StillProcessing")
        check_task.add_catch(still_processing, errors=[TRANSFER_PENDING, PARTNER_UNAVAILABLE], result_path="$.error")
        send_task.add_catch(
            check_task, errors=["States.Timeout", PARTNER_UNAVAILABLE, RATE_LIMITED], result_path="$.error"
        )

        pay = sfn.DistributedMap(
            states,
            "PayOut",
            comment="Each payout of the run: transfer, callback or status query, PAID or FAILED",
            item_reader=sfn.S3JsonItemReader(bucket=bucket, key=sfn.JsonPath.string_at("$.collected.items_key")),
            # Partners' rate limits are kept by the send step (RateLimited, retried); this bounds
            # the transfers in flight, each of them mostly waiting for its callback.
            max_concurrency=200,
            map_execution_type=sfn.StateMachineType.STANDARD,
            result_writer_v2=sfn.ResultWriterV2(bucket=bucket, prefix="payout-runs/results"),
            result_path="$.results",
        )
        # The wait timed out before the send step even ran (Lambda throttled): send it now.
        check_task.next(
            sfn.Choice(states, "Sent")
            .when(sfn.Condition.string_equals("$.settled.status", "SCHEDULED"), send_task)
            .otherwise(settled)
        )
        pay.item_processor(send_task.next(settled))
        anything_due = (
            sfn.Choice(states, "AnythingDue")
            .when(sfn.Condition.number_greater_than("$.collected.count", 0), pay)
            .otherwise(sfn.Succeed(states, "NothingDue"))
        )
        self.state_machine = standard_state_machine(
            self, stage, data.logs_key, STATE_MACHINE_NAME, collect_task.next(anything_due), Duration.hours(24)
        )
        justify_state_machine_role(self.state_machine, list(self.functions.values()))
        justify_distributed_map(self.state_machine, bucket)
        self.schedule = events.Rule(
            self,
            "Every15Minutes",
            description="Payout run: every incentive that fell due since the last run",
            schedule=events.Schedule.rate(Duration.minutes(15)),
            targets=[targets.SfnStateMachine(self.state_machine)],
        )
