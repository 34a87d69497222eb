"""Alarms on what breaks the applicant journey: API errors, Lambda errors and throttles,
failed workflow executions."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from prakerja_infra.stage import StageConfig, removal_policy


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        api: apigw.RestApi,
        functions: dict[str, lambda_.Function],
        state_machines: dict[str, sfn.StateMachine],
    ) -> None:
        super().__init__(scope, construct_id)
        # CloudWatch must be allowed to use the topic's key, which rules out the AWS managed one.
        alarm_key = kms.Key(
            self,
            "AlarmTopicKey",
            enable_key_rotation=True,
            description="Alarm topic encryption",
            # Like every key of the stage: kept when a prod stack is deleted, deleted with a dev one.
            removal_policy=removal_policy(stage),
        )
        alarm_key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey")
        self.alarm_topic = sns.Topic(
            self, "AlarmTopic", display_name=f"Prakerja {stage.name} alarms", master_key=alarm_key
        )
        self.alarm_topic.add_to_resource_policy(_deny_insecure_transport(self.alarm_topic))
        notify = actions.SnsAction(self.alarm_topic)
        self.alarms: list[cloudwatch.Alarm] = []

        def alarm(name: str, metric: cloudwatch.IMetric, threshold: float) -> None:
            created = cloudwatch.Alarm(
                self,
                name,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            created.add_alarm_action(notify)
            self.alarms.append(created)

        five_minutes = Duration.minutes(5)
        alarm("Api5xx", api.metric_server_error(period=five_minutes), 5)
        alarm("ApiLatencyP99", api.metric_latency(period=five_minutes, statistic="p99"), 3000)
        for name, function in functions.items():
            alarm(f"{name}Errors", function.metric_errors(period=five_minutes), 1)
            alarm(f"{name}Throttles", function.metric_throttles(period=five_minutes), 1)
        for name, machine in state_machines.items():
            alarm(f"{name}Failed", machine.metric_failed(period=five_minutes), 1)
            alarm(f"{name}TimedOut", machine.metric_timed_out(period=five_minutes), 1)


def _deny_insecure_transport(topic: sns.Topic) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        effect=iam.Effect.DENY,
        principals=[iam.AnyPrincipal()],
        actions=["sns:Publish"],
        resources=[topic.topic_arn],
        conditions={"Bool": {"aws:SecureTransport": "false"}},
    )
