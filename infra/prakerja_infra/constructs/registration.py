"""The registration workflow: e-KYC against the civil registry, then eligibility screening. Started
by ``POST /v1/applicants`` (execution named after the applicant); its two functions, their grants
and the state machine are this construct's."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from prakerja_infra.constructs.data import Data
from prakerja_infra.constructs.functions import FunctionFactory
from prakerja_infra.constructs.grants import APPLICANT_RECORDS, allow_table
from prakerja_infra.constructs.steps import justify_state_machine_role, standard_state_machine
from prakerja_infra.stage import StageConfig

# Raised by the e-KYC step when the civil registry does not answer; retried with backoff.
REGISTRY_UNAVAILABLE = "CivilRegistryUnavailable"


class RegistrationWorkflow(Construct):
    NAME = "Registration"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        data: Data,
        function: FunctionFactory,
        civil_registry_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        personal_data = {
            "APPLICANTS_TABLE": data.applicants.table_name,
            "PERSONAL_DATA_KEY_ARN": data.personal_data_key.key_arn,
        }
        verify_identity = function(
            self,
            "VerifyIdentity",
            "registration_workflow.verify_identity.lambda_handler",
            "Registration workflow: e-KYC against the civil registry",
            environment={**personal_data, "CIVIL_REGISTRY_URL": civil_registry_url},
        )
        allow_table(data.applicants, verify_identity, *APPLICANT_RECORDS)
        data.personal_data_key.grant(verify_identity, "kms:Decrypt")

        screen_eligibility = function(
            self,
            "ScreenEligibility",
            "registration_workflow.screen_eligibility.lambda_handler",
            "Registration workflow: eligibility rules and the decision",
            environment={**personal_data, "EXCLUSIONS_TABLE": data.exclusions.table_name},
        )
        allow_table(data.applicants, screen_eligibility, *APPLICANT_RECORDS)
        data.exclusions.grant_read_data(screen_eligibility)
        data.personal_data_key.grant(screen_eligibility, "kms:Decrypt")
        self.functions: dict[str, lambda_.Function] = {
            "VerifyIdentity": verify_identity,
            "ScreenEligibility": screen_eligibility,
        }

        states = Construct(self, "States")  # a state's name is its construct id, as its function's
        verify = tasks.LambdaInvoke(
            states,
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
            states,
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
            sfn.Choice(states, "Decision")
            .when(sfn.Condition.string_equals("$.status", "VERIFIED"), sfn.Succeed(states, "Verified"))
            .otherwise(sfn.Succeed(states, "Rejected"))
        )
        self.state_machine = standard_state_machine(
            self, stage, data.logs_key, "registration", verify.next(screen).next(decision), Duration.minutes(30)
        )
        justify_state_machine_role(self.state_machine, list(self.functions.values()))
