"""One Lambda function definition for every handler: runtime, layers, logging, tracing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from pydantic import BaseModel

from prakerja import config
from prakerja.notifier_limits import NOTIFIER_TIMEOUT_SECONDS
from prakerja_infra.bundling import dependencies_layer, shared_layer
from prakerja_infra.nag import acknowledge
from prakerja_infra.stage import StageConfig, log_retention, removal_policy

ROOT = Path(__file__).resolve().parents[3]
FUNCTIONS_DIR = ROOT / "functions"
# Keep the runtime in step with bundling.LAMBDA_PYTHON_VERSION.
RUNTIME = lambda_.Runtime.PYTHON_3_14
SERVICE_NAME = "prakerja"
LIVE_ALIAS = "live"
METRICS_NAMESPACE = "Prakerja"


# Each function's settings model (prakerja.config), the one its handler loads at cold start: the
# single source of the variables the function is given (the model's fields, upper-case).
# tests/infra/test_functions.py checks each handler's package loads the model named here.
FUNCTION_SETTINGS: Mapping[str, type[BaseModel]] = {
    "PublicApi": config.PublicApiSettings,
    "ApplicantApi": config.ApplicantApiSettings,
    "OpsApi": config.OpsApiSettings,
    "PartnerApi": config.PartnerApiSettings,
    "VerifyIdentity": config.VerifyIdentitySettings,
    "ScreenEligibility": config.ScreenEligibilitySettings,
    "PlanSelection": config.SelectionSettings,
    "SnapshotShard": config.SnapshotShardSettings,
    "MergeDraw": config.SelectionSettings,
    "ApplyShard": config.ApplyShardSettings,
    "PublishResult": config.SelectionSettings,
    "Notifier": config.NotifierSettings,
    "PlanCardSweep": config.CardDeadlineSettings,
    "RevokeUnusedCards": config.RevokeCardsSettings,
    "FinishCardSweep": config.CardDeadlineSettings,
    "CollectDuePayouts": config.PayoutWorkflowSettings,
    "SendTransfer": config.PayoutWorkflowSettings,
    "CheckTransfer": config.PayoutWorkflowSettings,
    "ReconcileSettlement": config.ReconciliationSettings,
    "CountOverdueComplaints": config.ComplaintMetricsSettings,
}


# Request paths answer within API Gateway's 29 s, and a step's single item well inside this.
DEFAULT_TIMEOUT_SECONDS = 15
# The steps whose work grows with the programme, each sized to its largest piece of work (the
# selection steps set their own: docs/selection.md). docs/deploy.md, "Batch steps".
BATCH_STEP_TIMEOUTS = {
    # Up to a run's limit (1 M) of keys from the due index, ~100 query pages of 1 MB, written as
    # one S3 object: seconds to a minute, with room for a throttled table.
    "CollectDuePayouts": 300,
    # A page of prakerja.cards.deadlines.CARDS_PER_INVOCATION (2,000) transactions of ~25 ms; the
    # workflow loops on the shard's cursor.
    "RevokeUnusedCards": 300,
    # A partner's day of settlement lines against the ledger's entries of that day, read by page:
    # the most Lambda allows.
    "ReconcileSettlement": 900,
    # A stream batch of texts, sized with the batch and the claim's lease (prakerja.notifier_limits).
    "Notifier": NOTIFIER_TIMEOUT_SECONDS,
}


def settings_variables(function_id: str, environment: Mapping[str, str]) -> dict[str, str]:
    """``environment`` checked against the function's settings model: every variable is one of
    its fields, and every field without a default is given. A mismatch fails the synth here,
    not the function's cold start after a deploy."""
    model = FUNCTION_SETTINGS.get(function_id)
    if model is None:
        raise ValueError(f"{function_id}: no settings model declared in FUNCTION_SETTINGS")
    fields = {name.upper(): field for name, field in model.model_fields.items()}
    unknown = sorted(set(environment) - set(fields))
    missing = sorted(name for name, field in fields.items() if field.is_required() and name not in environment)
    if unknown or missing:
        raise ValueError(
            f"{function_id}: its environment and {model.__name__} disagree: "
            f"not settings {unknown or 'none'}, settings not given {missing or 'none'}"
        )
    return dict(environment)


class Layers(Construct):
    """The third-party dependencies layer and the shared-code (``prakerja``) layer."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(dependencies_layer()), exclude=[".stamp"]),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="Pinned third-party packages (requirements/lambda.lock)",
        )
        self.shared = lambda_.LayerVersion(
            self,
            "Shared",
            code=lambda_.Code.from_asset(str(shared_layer()), exclude=[".stamp"]),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="prakerja package: domain rules, services, adapters",
        )


class PrakerjaFunction(Construct):
    """A handler from ``functions/`` with Powertools configured and its own encrypted log group.

    Permissions are granted by the caller, one by one: each function gets only what its
    handler uses.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        layers: Layers,
        logs_key: kms.IKey,
        handler: str,
        description: str,
        environment: dict[str, str],
        timeout_seconds: int | None = None,
        memory_mb: int | None = None,
        unscoped_also: str = "",
        published: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        if timeout_seconds is None:
            timeout_seconds = BATCH_STEP_TIMEOUTS.get(construct_id, DEFAULT_TIMEOUT_SECONDS)
        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention(stage),
            removal_policy=removal_policy(stage),
            encryption_key=logs_key,
        )
        # Its own role, without AWSLambdaBasicExecutionRole (which may create any log group and
        # write to every one in the account): the function writes to its own group, nothing else.
        role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{construct_id}: {description}"[:1000],
        )
        log_group.grant_write(role)
        self.function = lambda_.Function(
            self,
            "Function",
            role=role,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler,
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR), exclude=["**/__pycache__", "**/*.pyc"]),
            layers=[layers.dependencies, layers.shared],
            memory_size=memory_mb or stage.lambda_memory_mb,
            timeout=Duration.seconds(timeout_seconds),
            description=description,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if published and stage.snap_start else None,
            environment={
                "STAGE": stage.name,
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                # Traces carry ids and timings only: no response bodies (a profile holds a name)
                # and no exception messages (a validation error may quote its input). The
                # handlers say so too; this holds for any method traced later.
                "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
                "POWERTOOLS_TRACER_CAPTURE_ERROR": "false",
                **settings_variables(construct_id, environment),
            },
        )
        # Published: callers invoke the alias, which points at the version deployed last (SnapStart
        # applies to published versions only: $LATEST always imports anew).
        self.alias = (
            lambda_.Alias(self, "Live", alias_name=LIVE_ALIAS, version=self.function.current_version)
            if published
            else None
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            f"{construct_id}: X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions."
            f"{unscoped_also}",
        )


@dataclass(frozen=True)
class FunctionFactory:
    """What every function of a stage shares (the stage, the layers, the logs' key), so that the
    construct that owns a function names only what is its own: handler, description, variables."""

    stage: StageConfig
    layers: Layers
    logs_key: kms.IKey

    def __call__(
        self,
        scope: Construct,
        construct_id: str,
        handler: str,
        description: str,
        *,
        environment: Mapping[str, str],
        timeout_seconds: int | None = None,
        memory_mb: int | None = None,
        unscoped_also: str = "",
    ) -> lambda_.Function:
        return self.make(
            scope,
            construct_id,
            handler,
            description,
            environment=environment,
            timeout_seconds=timeout_seconds,
            memory_mb=memory_mb,
            unscoped_also=unscoped_also,
        ).function

    def published(
        self, scope: Construct, construct_id: str, handler: str, description: str, *, environment: Mapping[str, str]
    ) -> tuple[lambda_.Function, lambda_.Alias]:
        """A function whose callers invoke its ``live`` alias (with SnapStart where the stage has it)."""
        made = self.make(scope, construct_id, handler, description, environment=environment, published=True)
        assert made.alias is not None
        return made.function, made.alias

    def make(
        self,
        scope: Construct,
        construct_id: str,
        handler: str,
        description: str,
        *,
        environment: Mapping[str, str],
        **options: Any,
    ) -> PrakerjaFunction:
        return PrakerjaFunction(
            scope,
            construct_id,
            stage=self.stage,
            layers=self.layers,
            logs_key=self.logs_key,
            handler=handler,
            description=description,
            environment=dict(environment),
            **options,
        )
