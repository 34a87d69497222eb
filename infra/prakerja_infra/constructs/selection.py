"""A wave's selection, started by ``POST /v1/ops/waves/{id}/close`` (execution named after the
wave): plan, snapshot each shard, merge the draw, apply each part of a shard, publish. Two
Distributed Maps read descriptor lists from S3: the snapshot one per shard (~94 k participants at
6 M), the apply one per quarter of a shard. Each child is a batch without ItemBatcher, which keeps
this very definition runnable by moto's interpreter locally (docs/selection.md). The five step
functions, each with exactly what it reads and writes, and the state machine are this construct's.
Execution data are wave ids, shard numbers and counts: no personal data."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from prakerja.waves.models import PARTICIPANT_SHARDS
from prakerja_infra.constructs.data import Data
from prakerja_infra.constructs.functions import FunctionFactory
from prakerja_infra.constructs.grants import allow_bucket_objects, allow_ledger_postings, allow_table
from prakerja_infra.constructs.steps import (
    justify_distributed_map,
    justify_state_machine_role,
    shard_task,
    standard_state_machine,
)
from prakerja_infra.stage import StageConfig

# A shard of a 6 M wave: ~94 k participants (docs/selection.md).
SELECTION_STEP_TIMEOUT_SECONDS = 900
READ_WAVE = "dynamodb:GetItem"


class SelectionWorkflow(Construct):
    NAME = "Selection"

    def __init__(
        self, scope: Construct, construct_id: str, *, stage: StageConfig, data: Data, function: FunctionFactory
    ) -> None:
        super().__init__(scope, construct_id)
        files = {"WAVES_TABLE": data.waves.table_name, "SELECTION_BUCKET": data.selection.bucket_name}

        def step(construct_id: str, module: str, description: str, **environment: str) -> lambda_.Function:
            return function(
                self,
                construct_id,
                f"selection_workflow.{module}.lambda_handler",
                f"Selection workflow: {description}",
                environment={**files, **environment},
                timeout_seconds=SELECTION_STEP_TIMEOUT_SECONDS,
                memory_mb=stage.selection_memory_mb,
            )

        def allow_objects(fn: lambda_.Function, *actions: str, prefix: str) -> None:
            allow_bucket_objects(data.selection, fn, *actions, prefix=prefix)

        plan = step("PlanSelection", "plan_selection", "the shard descriptors")
        data.waves.grant(plan, READ_WAVE)
        allow_objects(plan, "s3:PutObject", prefix="selection/")

        snapshot_shard = step(
            "SnapshotShard",
            "snapshot_shard",
            "one shard re-screened, exported and summarized",
            EXCLUSIONS_TABLE=data.exclusions.table_name,
        )
        data.waves.grant(snapshot_shard, READ_WAVE, "dynamodb:Query")
        data.exclusions.grant(snapshot_shard, "dynamodb:Query")
        allow_objects(snapshot_shard, "s3:GetObject", "s3:PutObject", prefix="selection/")

        merge_draw = step("MergeDraw", "merge_draw", "the draw's thresholds from every shard")
        data.waves.grant(merge_draw, READ_WAVE)
        allow_objects(merge_draw, "s3:GetObject", "s3:PutObject", prefix="selection/")

        apply_shard = step(
            "ApplyShard",
            "apply_shard",
            "one shard's outcomes, cards, notifications and published pages",
            APPLICANTS_TABLE=data.applicants.table_name,
            OUTBOX_TABLE=data.outbox.table_name,
            LEDGER_TABLE=data.ledger.table_name,
        )
        data.waves.grant(apply_shard, READ_WAVE)
        allow_ledger_postings(data.ledger, apply_shard)  # each card funded from the program budget
        # Outcome transactions: the profile update, the card-number guard put, the outbox put.
        allow_table(data.applicants, apply_shard, "dynamodb:UpdateItem", "dynamodb:PutItem")
        data.outbox.grant(apply_shard, "dynamodb:PutItem")
        allow_objects(apply_shard, "s3:GetObject", prefix="selection/")
        allow_objects(apply_shard, "s3:PutObject", prefix="draw/")

        publish_result = step("PublishResult", "publish_result", "the wave's report, published")
        data.waves.grant(publish_result, READ_WAVE, "dynamodb:UpdateItem")
        allow_objects(publish_result, "s3:GetObject", prefix="selection/")
        self.functions: dict[str, lambda_.Function] = {
            "PlanSelection": plan,
            "SnapshotShard": snapshot_shard,
            "MergeDraw": merge_draw,
            "ApplyShard": apply_shard,
            "PublishResult": publish_result,
        }

        states = Construct(self, "States")  # a state's name is its construct id, as its function's
        wave_only = sfn.TaskInput.from_object({"wave_id": sfn.JsonPath.string_at("$.wave_id")})
        plan_task = tasks.LambdaInvoke(
            states,
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
                states,
                construct_id,
                comment=comment,
                item_reader=sfn.S3JsonItemReader(bucket=data.selection, key=sfn.JsonPath.string_at(items)),
                max_concurrency=PARTICIPANT_SHARDS,
                map_execution_type=sfn.StateMachineType.STANDARD,
                result_path=result_path,
            )
            shards.item_processor(task)
            return shards

        snapshots = over_shards(
            "SnapshotShards",
            "Per shard: participants re-screened against the lists, exported once, summarized",
            shard_task(states, "SnapshotShard", "One shard's snapshot and draw summary", snapshot_shard),
            "$.snapshots",
            "$.plan.shards_key",
        )
        merge = tasks.LambdaInvoke(
            states,
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
            shard_task(states, "ApplyShard", "One part of a shard's outcomes", apply_shard, parts=True),
            "$.applied",
            "$.plan.parts_key",
        )
        publish = tasks.LambdaInvoke(
            states,
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
            data.logs_key,
            "selection",
            plan_task.next(snapshots).next(merge).next(outcomes).next(publish).next(sfn.Succeed(states, "Published")),
            Duration.hours(2),
        )
        justify_state_machine_role(self.state_machine, list(self.functions.values()))
        justify_distributed_map(self.state_machine, data.selection)
