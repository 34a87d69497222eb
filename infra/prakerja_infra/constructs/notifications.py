"""Notifications: each new outbox message texted by SMS (SNS), from the outbox table's stream. The
notifier function, its grants, its stream source and dead-letter queue, and the role SNS writes
delivery receipts with are this construct's."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from prakerja.notifier_limits import NOTIFIER_BATCH_SIZE
from prakerja_infra.constructs.data import Data
from prakerja_infra.constructs.functions import FunctionFactory
from prakerja_infra.constructs.grants import allow_table
from prakerja_infra.nag import acknowledge, acknowledge_resource, resource_of
from prakerja_infra.stage import StageConfig

UNSCOPED = (
    " SMS to a phone number (sns:Publish) and dynamodb:ListStreams (lists stream ARNs, no data)"
    " have no resource to name."
)

DEAD_LETTERS_LOGICAL_ID = "NotifierDeadLettersB15D036B"


class Notifications(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: StageConfig, data: Data, function: FunctionFactory
    ) -> None:
        super().__init__(scope, construct_id)
        notifier = function(
            self,
            "Notifier",
            "notifier.handler.lambda_handler",
            "Notifications: texts each new outbox message (SMS through SNS)",
            environment={
                "APPLICANTS_TABLE": data.applicants.table_name,
                "OUTBOX_TABLE": data.outbox.table_name,
                "PERSONAL_DATA_KEY_ARN": data.personal_data_key.key_arn,
                "SMS_SENDER_ID": stage.sms_sender_id,
            },
            unscoped_also=UNSCOPED,
        )
        allow_table(data.applicants, notifier, "dynamodb:GetItem")
        data.outbox.grant(notifier, "dynamodb:UpdateItem")  # the claim, its release, the mark
        data.personal_data_key.grant(notifier, "kms:Decrypt")  # the phone number, at send time
        # SMS straight to a phone number: sns:Publish has no resource to name there.
        notifier.add_to_role_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=["*"]))
        self.dead_letters = sqs.Queue(
            self,
            "NotifierDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        # Its id from when the stack made it: a queue with a new id is a new queue, and the failed
        # messages the old one holds would go with it (tests/infra/test_deploy_safety.py).
        queue = self.dead_letters.node.default_child
        assert isinstance(queue, sqs.CfnQueue)
        queue.override_logical_id(DEAD_LETTERS_LOGICAL_ID)
        acknowledge(
            resource_of(self.dead_letters),
            "AwsSolutions-SQS3",
            "This queue is the notifier's dead-letter queue.",
        )
        notifier.add_event_source(
            event_sources.DynamoEventSource(
                data.outbox,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                # Small batches that finish well inside the timeout: a timed-out batch is retried
                # whole, and only the claim on each message keeps its SMS from going out twice.
                batch_size=NOTIFIER_BATCH_SIZE,
                bisect_batch_on_error=True,
                # Retries outlast a crashed sender's claim (prakerja.notifier_limits: 60 s lease).
                retry_attempts=10,
                report_batch_item_failures=True,
                on_failure=event_sources.SqsDlq(self.dead_letters),
                # New messages only: marking one sent (a MODIFY) must not send it again.
                filters=[lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.is_equal("INSERT")})],
            )
        )
        self.functions: dict[str, lambda_.Function] = {"Notifier": notifier}
        self.sms_delivery_status_role = self._sms_delivery_status_role()

    def _sms_delivery_status_role(self) -> iam.Role:
        """The role SNS writes SMS delivery receipts with (to CloudWatch Logs, sns/<region>/...).
        SNS takes it as an account attribute, which CloudFormation cannot set: docs/deploy.md
        runs `aws sns set-sms-attributes` with the role's ARN (the stack's output)."""
        role = iam.Role(
            self,
            "SmsDeliveryStatusRole",
            assumed_by=iam.ServicePrincipal("sns.amazonaws.com"),
            description="SNS: SMS delivery status (success and failure) written to CloudWatch Logs",
        )
        stack = Stack.of(self)
        sms_log_groups = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"sns/{stack.region}/{stack.account}/DirectPublishToPhoneNumber*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:PutRetentionPolicy"],
                resources=[sms_log_groups, f"{sms_log_groups}:*"],
            )
        )
        for resource in (sms_log_groups, f"{sms_log_groups}:*"):
            acknowledge_resource(
                role,
                "AwsSolutions-IAM5",
                resource,
                "SNS names the delivery-status log groups itself (DirectPublishToPhoneNumber and "
                "/Failure): the grant is those groups of this account and region, no wider.",
            )
        return role
