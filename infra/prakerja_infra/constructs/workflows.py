"""Step Functions state machines. The registration workflow: e-KYC, then eligibility screening.

Execution input and output carry only the applicant id and decision codes, never personal
data: the execution history is visible to anyone with console access.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from prakerja_infra.nag import acknowledge
from prakerja_infra.stage import StageConfig, log_retention, removal_policy

# Raised by the e-KYC step when the civil registry does not answer; retried with backoff.
REGISTRY_UNAVAILABLE = "CivilRegistryUnavailable"


class RegistrationWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
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
        log_group = logs.LogGroup(self, "Logs", retention=log_retention(stage), removal_policy=removal_policy(stage))
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=f"prakerja-{stage.name}-registration",
            definition_body=sfn.DefinitionBody.from_chainable(verify.next(screen).next(decision)),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.minutes(30),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        stack = Stack.of(self)
        for task_function in (verify_identity, screen_eligibility):
            logical_id = stack.resolve(stack.get_logical_id(task_function.node.default_child))  # type: ignore[arg-type]
            acknowledge(
                self.state_machine,
                f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>:*]",
                "LambdaInvoke may call its task function's versions and aliases (ARN:*), nothing else.",
            )
        acknowledge(
            self.state_machine,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray and CloudWatch log delivery actions have no resource-level permissions.",
        )
