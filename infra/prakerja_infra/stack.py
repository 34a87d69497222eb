"""The whole program on one stack per stage: data, auth, functions, API, workflows, alarms."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from prakerja_infra.constructs.api import Access, Api, Route
from prakerja_infra.constructs.auth import Auth
from prakerja_infra.constructs.data import Data
from prakerja_infra.constructs.functions import Layers, PrakerjaFunction
from prakerja_infra.constructs.observability import Observability
from prakerja_infra.constructs.workflows import RegistrationWorkflow
from prakerja_infra.nag import acknowledge
from prakerja_infra.stage import StageConfig


class PrakerjaStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        Tags.of(self).add("program", "prakerja")
        Tags.of(self).add("stage", stage.name)

        data = Data(self, "Data", stage=stage)
        auth = Auth(self, "Auth", stage=stage)
        layers = Layers(self, "Layers")

        def function(construct_id: str, handler: str, description: str, **environment: str) -> lambda_.Function:
            return PrakerjaFunction(
                self,
                construct_id,
                stage=stage,
                layers=layers,
                handler=handler,
                description=description,
                environment=environment,
            ).function

        personal_data_key = {"PERSONAL_DATA_KEY_ARN": data.personal_data_key.key_arn}
        hashing_secret = {"HASHING_SECRET_ARN": data.hashing_secret.secret_arn}

        # --- registration workflow (e-KYC + screening)
        verify_identity = function(
            "VerifyIdentity",
            "registration_workflow.verify_identity.lambda_handler",
            "Registration workflow: e-KYC against the civil registry",
            APPLICANTS_TABLE=data.applicants.table_name,
            CIVIL_REGISTRY_URL=str(stage.civil_registry_url),
            **personal_data_key,
        )
        data.applicants.grant_read_write_data(verify_identity)
        data.personal_data_key.grant(verify_identity, "kms:Decrypt")

        screen_eligibility = function(
            "ScreenEligibility",
            "registration_workflow.screen_eligibility.lambda_handler",
            "Registration workflow: eligibility rules and the decision",
            APPLICANTS_TABLE=data.applicants.table_name,
            EXCLUSIONS_TABLE=data.exclusions.table_name,
            **personal_data_key,
        )
        data.applicants.grant_read_write_data(screen_eligibility)
        data.exclusions.grant_read_data(screen_eligibility)
        data.personal_data_key.grant(screen_eligibility, "kms:Decrypt")

        registration = RegistrationWorkflow(
            self,
            "RegistrationWorkflow",
            stage=stage,
            verify_identity=verify_identity,
            screen_eligibility=screen_eligibility,
        )

        # --- API functions
        public_api = function(
            "PublicApi",
            "public_api.handler.lambda_handler",
            "Public routes: health and the OpenAPI document",
            API_VERSION="1",
        )
        applicant_api = function(
            "ApplicantApi",
            "applicant_api.handler.lambda_handler",
            "Applicant routes: profile, assessment",
            APPLICANTS_TABLE=data.applicants.table_name,
            WAVES_TABLE=data.waves.table_name,
            IDEMPOTENCY_TABLE=data.idempotency.table_name,
            REGISTRATION_STATE_MACHINE_ARN=registration.state_machine.state_machine_arn,
            **personal_data_key,
            **hashing_secret,
        )
        data.applicants.grant_read_write_data(applicant_api)
        data.waves.grant_read_write_data(applicant_api)
        data.idempotency.grant_read_write_data(applicant_api)
        data.personal_data_key.grant(applicant_api, "kms:Encrypt", "kms:Decrypt")
        data.hashing_secret.grant_read(applicant_api)
        registration.state_machine.grant_start_execution(applicant_api)

        ops_api = function(
            "OpsApi",
            "ops_api.handler.lambda_handler",
            "Ops routes: exclusion lists",
            EXCLUSIONS_TABLE=data.exclusions.table_name,
            WAVES_TABLE=data.waves.table_name,
            **hashing_secret,
        )
        data.exclusions.grant_read_write_data(ops_api)
        data.waves.grant_read_write_data(ops_api)
        data.hashing_secret.grant_read(ops_api)

        api = Api(
            self,
            "Api",
            stage=stage,
            user_pool=auth.user_pool,
            routes=[
                Route("GET", "/v1/health", public_api, Access.PUBLIC),
                Route("GET", "/v1/openapi.json", public_api, Access.PUBLIC),
                Route("GET", "/v1/docs", public_api, Access.PUBLIC),
                Route("POST", "/v1/applicants", applicant_api, Access.USER),
                Route("GET", "/v1/applicants/me", applicant_api, Access.USER),
                Route("GET", "/v1/assessment", applicant_api, Access.USER),
                Route("POST", "/v1/applicants/me/assessment", applicant_api, Access.USER),
                Route("GET", "/v1/waves", applicant_api, Access.USER),
                Route("POST", "/v1/waves/{wave_id}/join", applicant_api, Access.USER),
                Route("POST", "/v1/ops/exclusion-lists/{source}", ops_api, Access.USER),
                Route("POST", "/v1/ops/waves", ops_api, Access.USER),
                Route("GET", "/v1/ops/waves/{wave_id}", ops_api, Access.USER),
            ],
        )

        functions = {
            "PublicApi": public_api,
            "ApplicantApi": applicant_api,
            "OpsApi": ops_api,
            "VerifyIdentity": verify_identity,
            "ScreenEligibility": screen_eligibility,
        }
        Observability(
            self,
            "Observability",
            stage=stage,
            api=api.rest_api,
            functions=functions,
            state_machines={"Registration": registration.state_machine},
        )

        for name, fn in functions.items():
            _justify_lambda_role(fn, name)

        CfnOutput(self, "ApiUrl", value=api.rest_api.url)
        CfnOutput(self, "UserPoolId", value=auth.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=auth.client.user_pool_client_id)
        CfnOutput(self, "RegistrationStateMachineArn", value=registration.state_machine.state_machine_arn)


def _justify_lambda_role(fn: lambda_.Function, name: str) -> None:
    role = fn.role
    assert isinstance(role, iam.Role)
    acknowledge(
        role,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        f"{name}: AWSLambdaBasicExecutionRole only lets the function write its own logs.",
    )
    acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::*]",
        f"{name}: X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions.",
    )
