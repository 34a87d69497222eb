"""Every night (00:05 WIB, just after the deadlines' 23:59:59), the cards unused by their deadline
are revoked, their applicants blacklisted and their balances returned to the State Treasury
(prakerja.cards.deadlines). Safe to re-run: each revocation is conditional. The three step
functions, their grants, the state machine and its schedule are this construct's."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from prakerja.waves.models import PARTICIPANT_SHARDS
from prakerja_infra.constructs.data import Data
from prakerja_infra.constructs.functions import FunctionFactory
from prakerja_infra.constructs.grants import allow_index_query, allow_ledger_postings, allow_table
from prakerja_infra.constructs.steps import (
    CORRELATION_ID,
    EXECUTION_NAME,
    justify_state_machine_role,
    shard_task,
    standard_state_machine,
)
from prakerja_infra.stage import StageConfig


class CardDeadlinesWorkflow(Construct):
    NAME = "CardDeadlines"

    def __init__(
        self, scope: Construct, construct_id: str, *, stage: StageConfig, data: Data, function: FunctionFactory
    ) -> None:
        super().__init__(scope, construct_id)
        waves = {"WAVES_TABLE": data.waves.table_name}
        plan = function(
            self,
            "PlanCardSweep",
            "card_deadlines.plan_sweep.lambda_handler",
            "Card deadlines: due waves",
            environment=waves,
        )
        data.waves.grant(plan, "dynamodb:Query")
        sweep = function(
            self,
            "RevokeUnusedCards",
            "card_deadlines.sweep_shard.lambda_handler",
            "Card deadlines: a page of one shard's unused cards revoked",
            environment={
                "APPLICANTS_TABLE": data.applicants.table_name,
                "EXCLUSIONS_TABLE": data.exclusions.table_name,
                "OUTBOX_TABLE": data.outbox.table_name,
                "LEDGER_TABLE": data.ledger.table_name,
                **waves,
            },
        )
        # The due cards' index, the profile and its revocation; the blacklist entry; the notice.
        allow_index_query(data.applicants, "CardsDue", sweep)
        allow_table(data.applicants, sweep, "dynamodb:GetItem", "dynamodb:UpdateItem")
        data.exclusions.grant(sweep, "dynamodb:PutItem")
        data.outbox.grant(sweep, "dynamodb:PutItem")
        allow_ledger_postings(data.ledger, sweep)  # unused balances returned to the Treasury
        finish = function(
            self,
            "FinishCardSweep",
            "card_deadlines.finish_sweep.lambda_handler",
            "Card deadlines: waves marked swept",
            environment=waves,
        )
        data.waves.grant(finish, "dynamodb:UpdateItem")
        self.functions: dict[str, lambda_.Function] = {
            "PlanCardSweep": plan,
            "RevokeUnusedCards": sweep,
            "FinishCardSweep": finish,
        }

        states = Construct(self, "States")  # a state's name is its construct id
        plan_task = tasks.LambdaInvoke(
            states,
            "PlanSweep",
            comment=f"The waves whose purchase deadline has passed, and their {PARTICIPANT_SHARDS} shards each",
            lambda_function=plan,
            payload=sfn.TaskInput.from_object({CORRELATION_ID: EXECUTION_NAME}),
            payload_response_only=True,
            result_path="$.plan",
        )
        sweep_shards = sfn.Map(
            states,
            "SweepShards",
            comment="Each shard of each due wave: revoke its unused cards",
            items_path="$.plan.shards",
            # Every shard of a wave at once: a 6 M wave's shard is ~94 k cards, ~47 pages of a
            # minute or less (prakerja.cards.deadlines.CARDS_PER_INVOCATION).
            max_concurrency=PARTICIPANT_SHARDS,
            result_path="$.swept",
        )
        revoke = shard_task(
            states,
            "RevokeUnusedCards",
            "A page of one shard's unused cards revoked, one transaction each",
            sweep,
            paged=True,
            correlated=True,
        )
        # A page at a time, until the shard's cursor runs out (the page's output is the next input).
        sweep_shards.item_processor(
            revoke.next(
                sfn.Choice(states, "MoreCards")
                .when(sfn.Condition.is_not_null("$.cursor"), revoke)
                .otherwise(sfn.Succeed(states, "ShardSwept"))
            )
        )
        finish_task = tasks.LambdaInvoke(
            states,
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
            self,
            stage,
            data.logs_key,
            "card-deadlines",
            plan_task.next(sweep_shards).next(finish_task),
            Duration.hours(6),
        )
        justify_state_machine_role(self.state_machine, list(self.functions.values()))
        # 17:05 UTC is 00:05 WIB: the first run after each day's deadlines.
        self.schedule = events.Rule(
            self,
            "Nightly",
            description="Card deadlines: revoke the cards unused by their deadline",
            schedule=events.Schedule.cron(minute="5", hour="17"),
            targets=[targets.SfnStateMachine(self.state_machine)],
        )
