"""What every workflow's state machine is made of: a standard, traced and logged state machine,
the Lambda tasks of a shard or of a data step with their retries, and the acknowledgments of
what Step Functions needs unscoped. Each workflow is a construct of its own (registration.py,
selection.py, card_deadlines.py, payouts.py, reconciliation.py) built from these.

Execution input and output carry only ids, counts and decision codes, never personal data: the
execution history is visible to anyone with console access.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Duration, Fn, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from prakerja_infra.nag import acknowledge, acknowledge_resource
from prakerja_infra.stage import StageConfig, log_retention, removal_policy

# Lambda's service errors are retried by every LambdaInvoke already; throttling is not. A new
# account's concurrency is low (docs/deploy.md), and every Map or Distributed Map fans out.
LAMBDA_THROTTLED = "Lambda.TooManyRequestsException"

# Where a task's payload carries its execution's name, the correlation id of the task's logs
# (prakerja.observability.EXECUTION_CORRELATION), when nothing in it names the execution already:
# registration and selection executions are named after the applicant and the wave, and a payout
# run writes its id into each of its items.
CORRELATION_ID = "correlation_id"

VENDED_LOGS_PREFIX = "/aws/vendedlogs/states/"
EXECUTION_NAME = sfn.JsonPath.string_at("$$.Execution.Name")


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


def justify_state_machine_role(state_machine: sfn.StateMachine, task_functions: list[lambda_.IFunction]) -> None:
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


def shard_task(
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
    retry_lambda_throttling(task)
    return task


def retry_lambda_throttling(task: tasks.LambdaInvoke) -> None:
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


def data_task(
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
    retry_lambda_throttling(task)
    return task


def justify_distributed_map(state_machine: sfn.StateMachine, bucket: s3.IBucket) -> None:
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
