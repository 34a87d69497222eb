"""Step Functions state machines: the registration workflow (e-KYC, then eligibility
screening), the selection workflow of a wave (snapshot, draw, outcomes, publication) and the
nightly card deadlines workflow.

Execution input and output carry only the applicant id and decision codes, never personal
data: the execution history is visible to anyone with console access.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Duration, Fn, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from prakerja.waves.models import PARTICIPANT_SHARDS
from prakerja_infra.nag import acknowledge, acknowledge_resource
from prakerja_infra.stage import StageConfig, log_retention, removal_policy

# Lambda's service errors are retried by every LambdaInvoke already; throttling is not. A new
# account's concurrency is low (docs/deploy.md), and every Map or Distributed Map fans out.
LAMBDA_THROTTLED = "Lambda.TooManyRequestsException"

# Raised by the e-KYC step when the civil registry does not answer; retried with backoff.
REGISTRY_UNAVAILABLE = "CivilRegistryUnavailable"

# Where a task's payload carries its execution's name, the correlation id of the task's logs
# (prakerja.observability.EXECUTION_CORRELATION), when nothing in it names the execution already:
# registration and selection executions are named after the applicant and the wave, and a payout
# run writes its id into each of its items.
CORRELATION_ID = "correlation_id"

VENDED_LOGS_PREFIX = "/aws/vendedlogs/states/"
EXECUTION_NAME = sfn.JsonPath.string_at("$$.Execution.Name")


class RegistrationWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        logs_key: kms.IKey,
        verify_identity: lambda_.IFunction,
        screen_eligibility: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)

        verify = tasks.LambdaInvoke(
            self,
            "VerifyIdentity",
            comment="e-KYC: NIK, name and birth date against the civil registry (Dukcapil)",
            lambda_function=verify_identity,
            payload=sfn.TaskInput.from_object({"applicant_id": sfn.JsonPath.string_at("$.applicant_id")}),
            payload_response_only=True,
            result_selector={
                "applicant_id.$": "$.applicant_id",
                "registry.$": "$.registry",
            },
        )
        verify.add_retry(
            errors=[REGISTRY_UNAVAILABLE],
            interval=Duration.seconds(2),
            max_attempts=5,
            backoff_rate=2.0,
        )
        screen = tasks.LambdaInvoke(
            self,
            "ScreenEligibility",
            comment="Layered eligibility rules; records VERIFIED or REJECTED with every reason",
            lambda_function=screen_eligibility,
            payload=sfn.TaskInput.from_object(
                {
                    "applicant_id": sfn.JsonPath.string_at("$.applicant_id"),
                    "registry": sfn.JsonPath.string_at("$.registry"),
                }
            ),
            payload_response_only=True,
        )
        decision = (
            sfn.Choice(self, "Decision")
            .when(sfn.Condition.string_equals("$.status", "VERIFIED"), sfn.Succeed(self, "Verified"))
            .otherwise(sfn.Succeed(self, "Rejected"))
        )
        self.state_machine = standard_state_machine(
            self, stage, logs_key, "registration", verify.next(screen).next(decision), Duration.minutes(30)
        )
        _justify_state_machine_role(self.state_machine, [verify_identity, screen_eligibility])


def standard_state_machine(
    scope: Construct,
    stage: StageConfig,
    logs_key: kms.IKey,
    name: str,
    chain: sfn.IChainable,
    timeout: Duration,
) -> sfn.StateMachine:
    """A STANDARD, traced state machine logging every state (without execution data, which
    could hold more than ids one day) to its own encrypted log group."""
    log_group = logs.LogGroup(
        scope,
        "Logs",
        # Under /aws/vendedlogs/: Step Functions' log delivery then needs no entry in the account's
        # CloudWatch Logs resource policy (5,120 characters for the whole account), which every
        # other name would grow by one per state machine, stage and re-create.
        log_group_name=f"{VENDED_LOGS_PREFIX}prakerja-{stage.name}-{name}",
        retention=log_retention(stage),
        removal_policy=removal_policy(stage),
        encryption_key=logs_key,
    )
    return sfn.StateMachine(
        scope,
        "StateMachine",
        state_machine_name=f"prakerja-{stage.name}-{name}",
        definition_body=sfn.DefinitionBody.from_chainable(chain),
        state_machine_type=sfn.StateMachineType.STANDARD,
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
    )


def _justify_state_machine_role(state_machine: sfn.StateMachine, task_functions: list[lambda_.IFunction]) -> None:
    stack = Stack.of(state_machine)
    for task_function in task_functions:
        logical_id = stack.resolve(stack.get_logical_id(task_function.node.default_child))  # type: ignore[arg-type]
        acknowledge(
            state_machine.role,
            f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>:*]",
            "LambdaInvoke may call its task function's versions and aliases (ARN:*), nothing else.",
        )
    acknowledge(
        state_machine.role,
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray and CloudWatch log delivery actions have no resource-level permissions.",
    )


def _shard_task(
    scope: Construct,
    construct_id: str,
    comment: str,
    function: lambda_.IFunction,
    *,
    parts: bool = False,
    paged: bool = False,
    correlated: bool = False,
) -> tasks.LambdaInvoke:
    """A step over one shard (or one part of it): safe to repeat, so transient failures are
    retried with backoff. ``correlated``: given the execution's name (an inline Map's iteration
    runs in its execution; a Distributed Map's child is an execution of its own)."""
    payload = {"wave_id": sfn.JsonPath.string_at("$.wave_id"), "shard": sfn.JsonPath.number_at("$.shard")}
    if parts:
        payload |= {"part": sfn.JsonPath.number_at("$.part"), "parts": sfn.JsonPath.number_at("$.parts")}
    if paged:  # where the previous page stopped (null at first) and the totals so far
        payload |= {
            "cursor": sfn.JsonPath.string_at("$.cursor"),
            "revoked": sfn.JsonPath.number_at("$.revoked"),
            "returned": sfn.JsonPath.number_at("$.returned"),
        }
    if correlated:
        payload[CORRELATION_ID] = EXECUTION_NAME
    task = tasks.LambdaInvoke(
        scope,
        construct_id,
        comment=comment,
        lambda_function=function,
        payload=sfn.TaskInput.from_object(payload),
        payload_response_only=True,
    )
    # DynamoDB or S3 throttling that outlasted the SDK's own retries.
    task.add_retry(
        errors=["ClientError", "States.Timeout"], interval=Duration.seconds(5), max_attempts=4, backoff_rate=2.0
    )
    _retry_lambda_throttling(task)
    return task


def _retry_lambda_throttling(task: tasks.LambdaInvoke) -> None:
    """Lambda refused the invocation for concurrency: a Map's shards retry apart (full jitter), not
    all at once again, for up to some ten minutes."""
    task.add_retry(
        errors=[LAMBDA_THROTTLED],
        interval=Duration.seconds(2),
        max_attempts=10,
        backoff_rate=2.0,
        max_delay=Duration.seconds(120),
        jitter_strategy=sfn.JitterType.FULL,
    )


class SelectionWorkflow(Construct):
    """A wave's selection, started by ``POST /v1/ops/waves/{id}/close`` (execution named after
    the wave). Two Distributed Maps read descriptor lists from S3: the snapshot one per shard
    (~94 k participants at 6 M), the apply one per quarter of a shard. Each child is a batch
    without ItemBatcher, which keeps this very definition runnable by moto's interpreter
    locally (docs/selection.md).
    Execution data are wave ids, shard numbers and counts: no personal data."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        logs_key: kms.IKey,
        bucket: s3.IBucket,
        plan: lambda_.IFunction,
        snapshot_shard: lambda_.IFunction,
        merge_draw: lambda_.IFunction,
        apply_shard: lambda_.IFunction,
        publish_result: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        wave_only = sfn.TaskInput.from_object({"wave_id": sfn.JsonPath.string_at("$.wave_id")})
        plan_task = tasks.LambdaInvoke(
            self,
            "PlanSelection",
            comment="Writes the shard descriptors the maps read",
            lambda_function=plan,
            payload=wave_only,
            payload_response_only=True,
            result_path="$.plan",
        )

        def over_shards(
            construct_id: str, comment: str, task: tasks.LambdaInvoke, result_path: str, items: str
        ) -> sfn.DistributedMap:
            shards = sfn.DistributedMap(
                self,
                construct_id,
                comment=comment,
                item_reader=sfn.S3JsonItemReader(bucket=bucket, key=sfn.JsonPath.string_at(items)),
                max_concurrency=PARTICIPANT_SHARDS,
                map_execution_type=sfn.StateMachineType.STANDARD,
                result_path=result_path,
            )
            shards.item_processor(task)
            return shards

        snapshots = over_shards(
            "SnapshotShards",
            "Per shard: participants re-screened against the lists, exported once, summarized",
            _shard_task(self, "SnapshotShard", "One shard's snapshot and draw summary", snapshot_shard),
            "$.snapshots",
            "$.plan.shards_key",
        )
        merge = tasks.LambdaInvoke(
            self,
            "MergeDraw",
            comment="All summaries -> the draw's thresholds (written once)",
            lambda_function=merge_draw,
            payload=wave_only,
            payload_response_only=True,
            result_path="$.draw",
        )
        outcomes = over_shards(
            "ApplyShards",
            "Per shard: SELECTED / NOT_SELECTED / REJECTED, cards, notifications, published pages",
            _shard_task(self, "ApplyShard", "One part of a shard's outcomes", apply_shard, parts=True),
            "$.applied",
            "$.plan.parts_key",
        )
        publish = tasks.LambdaInvoke(
            self,
            "PublishResult",
            comment="Checks the shards against the merge; the wave becomes SELECTED with its report",
            lambda_function=publish_result,
            payload=sfn.TaskInput.from_object(
                {"wave_id": sfn.JsonPath.string_at("$.wave_id"), "applied": sfn.JsonPath.list_at("$.applied")}
            ),
            payload_response_only=True,
            result_path="$.result",
        )
        self.state_machine = standard_state_machine(
            self,
            stage,
            logs_key,
            "selection",
            plan_task.next(snapshots).next(merge).next(outcomes).next(publish).next(sfn.Succeed(self, "Published")),
            Duration.hours(2),
        )
        _justify_state_machine_role(self.state_machine, [plan, snapshot_shard, merge_draw, apply_shard, publish_result])
        _justify_distributed_map(self.state_machine, bucket)


class CardDeadlinesWorkflow(Construct):
    """Every night (00:05 WIB, just after the deadlines' 23:59:59), the cards unused by their
    deadline are revoked, their applicants blacklisted and their balances returned to the
    State Treasury (prakerja.cards.deadlines). Safe to re-run: each revocation is conditional."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        logs_key: kms.IKey,
        plan: lambda_.IFunction,
        sweep_shard: lambda_.IFunction,
        finish: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        plan_task = tasks.LambdaInvoke(
            self,
            "PlanSweep",
            comment=f"The waves whose purchase deadline has passed, and their {PARTICIPANT_SHARDS} shards each",
            lambda_function=plan,
            payload=sfn.TaskInput.from_object({CORRELATION_ID: EXECUTION_NAME}),
            payload_response_only=True,
            result_path="$.plan",
        )
        sweep = sfn.Map(
            self,
            "SweepShards",
            comment="Each shard of each due wave: revoke its unused cards",
            items_path="$.plan.shards",
            # Every shard of a wave at once: a 6 M wave's shard is ~94 k cards, ~47 pages of a
            # minute or less (prakerja.cards.deadlines.CARDS_PER_INVOCATION).
            max_concurrency=PARTICIPANT_SHARDS,
            result_path="$.swept",
        )
        revoke = _shard_task(
            self,
            "RevokeUnusedCards",
            "A page of one shard's unused cards revoked, one transaction each",
            sweep_shard,
            paged=True,
            correlated=True,
        )
        # A page at a time, until the shard's cursor runs out (the page's output is the next input).
        sweep.item_processor(
            revoke.next(
                sfn.Choice(self, "MoreCards")
                .when(sfn.Condition.is_not_null("$.cursor"), revoke)
                .otherwise(sfn.Succeed(self, "ShardSwept"))
            )
        )
        finish_task = tasks.LambdaInvoke(
            self,
            "FinishSweep",
            comment="Each due wave marked swept, with its revoked cards and returned balance",
            lambda_function=finish,
            payload=sfn.TaskInput.from_object(
                {
                    "wave_ids": sfn.JsonPath.list_at("$.plan.wave_ids"),
                    "shards": sfn.JsonPath.list_at("$.swept"),
                    CORRELATION_ID: EXECUTION_NAME,
                }
            ),
            payload_response_only=True,
        )
        self.state_machine = standard_state_machine(
            self, stage, logs_key, "card-deadlines", plan_task.next(sweep).next(finish_task), Duration.hours(6)
        )
        _justify_state_machine_role(self.state_machine, [plan, sweep_shard, finish])
        # 17:05 UTC is 00:05 WIB: the first run after each day's deadlines.
        self.schedule = events.Rule(
            self,
            "Nightly",
            description="Card deadlines: revoke the cards unused by their deadline",
            schedule=events.Schedule.cron(minute="5", hour="17"),
            targets=[targets.SfnStateMachine(self.state_machine)],
        )


# Raised by the transfer steps (prakerja.payouts.ports): retried, each time with the same transfer id.
PARTNER_UNAVAILABLE = "PartnerUnavailable"
RATE_LIMITED = "RateLimited"
TRANSFER_PENDING = "TransferPending"


class PayoutWorkflow(Construct):
    """A payout run: collect the payouts due, then for each one (Distributed Map over the run's
    list in S3) send the transfer and wait for the partner's callback (task token, timeout from
    the item), asking the partner when no callback comes. Started by ``POST /v1/ops/payout-runs``
    and every 15 minutes. Safe to re-run at any point: every step is conditional on the payout's
    state and every transfer is sent under the same transfer id (docs/payouts.md)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        logs_key: kms.IKey,
        bucket: s3.IBucket,
        collect: lambda_.IFunction,
        send: lambda_.IFunction,
        check: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        collect_task = _data_task(
            self,
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
            self,
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
            self,
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
        settled = sfn.Succeed(self, "Settled", comment="PAID or FAILED with its code, recorded with its posting")
        # Still with the partner: the payout stays PROCESSING and a later run asks again.
        still_processing = sfn.Succeed(self, "StillProcessing")
        check_task.add_catch(still_processing, errors=[TRANSFER_PENDING, PARTNER_UNAVAILABLE], result_path="$.error")
        send_task.add_catch(
            check_task, errors=["States.Timeout", PARTNER_UNAVAILABLE, RATE_LIMITED], result_path="$.error"
        )

        pay = sfn.DistributedMap(
            self,
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
            sfn.Choice(self, "Sent")
            .when(sfn.Condition.string_equals("$.settled.status", "SCHEDULED"), send_task)
            .otherwise(settled)
        )
        pay.item_processor(send_task.next(settled))
        anything_due = (
            sfn.Choice(self, "AnythingDue")
            .when(sfn.Condition.number_greater_than("$.collected.count", 0), pay)
            .otherwise(sfn.Succeed(self, "NothingDue"))
        )
        self.state_machine = standard_state_machine(
            self, stage, logs_key, "payouts", collect_task.next(anything_due), Duration.hours(24)
        )
        _justify_state_machine_role(self.state_machine, [collect, send, check])
        _justify_distributed_map(self.state_machine, bucket)
        self.schedule = events.Rule(
            self,
            "Every15Minutes",
            description="Payout run: every incentive that fell due since the last run",
            schedule=events.Schedule.rate(Duration.minutes(15)),
            targets=[targets.SfnStateMachine(self.state_machine)],
        )


class ReconciliationWorkflow(Construct):
    """A payment partner's settlement report against the ledger, line by line. Started when the
    partner drops its report under ``settlements/`` in the payouts bucket (S3 -> EventBridge),
    or by ``POST /v1/ops/reconciliations``. Ends in ``DiscrepanciesFound`` (a failed execution,
    which alarms) when anything is missing, extra or different."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        logs_key: kms.IKey,
        bucket: s3.IBucket,
        reconcile: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        task = _data_task(
            self,
            "ReconcileSettlement",
            "Report lines against the ledger's confirmed payouts of that partner and day",
            reconcile,
            {"report_key": sfn.JsonPath.string_at("$.report_key"), CORRELATION_ID: EXECUTION_NAME},
            "$.result",
        )
        outcome = (
            sfn.Choice(self, "AnyDiscrepancy")
            .when(sfn.Condition.string_equals("$.result.status", "BALANCED"), sfn.Succeed(self, "Balanced"))
            .otherwise(
                sfn.Fail(
                    self,
                    "DiscrepanciesFound",
                    error="SettlementDiscrepancies",
                    cause="The settlement report and the ledger differ: see reconciliations/ in the payouts bucket.",
                )
            )
        )
        self.state_machine = standard_state_machine(
            self, stage, logs_key, "reconciliation", task.next(outcome), Duration.minutes(30)
        )
        _justify_state_machine_role(self.state_machine, [reconcile])
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


def _data_task(
    scope: Construct,
    construct_id: str,
    comment: str,
    function: lambda_.IFunction,
    payload: dict[str, object],
    result_path: str,
) -> tasks.LambdaInvoke:
    """A step that reads and writes DynamoDB or S3 only: safe to repeat, so throttling that
    outlasted the SDK's own retries is retried with backoff."""
    task = tasks.LambdaInvoke(
        scope,
        construct_id,
        comment=comment,
        lambda_function=function,
        payload=sfn.TaskInput.from_object(payload),
        payload_response_only=True,
        result_path=result_path,
    )
    task.add_retry(errors=["ClientError"], interval=Duration.seconds(5), max_attempts=4, backoff_rate=2.0)
    _retry_lambda_throttling(task)
    return task


def _justify_distributed_map(state_machine: sfn.StateMachine, bucket: s3.IBucket) -> None:
    """What CDK grants a Distributed Map, acknowledged by value (nag.acknowledge_resource), so
    that the acknowledgments hold for a region-agnostic synth and for the CDK CLI's alike."""
    acknowledge_resource(
        state_machine.role,
        "AwsSolutions-IAM5",
        Fn.join("", ["arn:", Aws.PARTITION, ":s3:::", bucket.bucket_name, "/*"]),
        "The Distributed Map reads its item list from, and writes its results to, its own bucket (CDK's grant).",
    )
    # The map's child executions (and their redrives), in the policy CDK adds for them.
    own_name = Fn.select(6, Fn.split(":", state_machine.state_machine_arn))
    for executions in (f"{own_name}:*", f"{own_name}/*:*"):
        acknowledge_resource(
            state_machine.node.find_child("DistributedMapPolicy"),
            "AwsSolutions-IAM5",
            Stack.of(state_machine).format_arn(
                service="states",
                resource="execution",
                resource_name=executions,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
            "A Distributed Map runs its children as executions of this state machine, and only this one.",
        )
