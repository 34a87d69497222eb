"""The whole program on one stack per stage: data, auth, functions, API, workflows, alarms."""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import ArnFormat, CfnOutput, Duration, Stack, Tags
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from prakerja.notifier_limits import NOTIFIER_BATCH_SIZE, NOTIFIER_TIMEOUT_SECONDS
from prakerja_infra.constructs.api import Api
from prakerja_infra.constructs.auth import Auth
from prakerja_infra.constructs.data import Data
from prakerja_infra.constructs.egress import Egress
from prakerja_infra.constructs.endpoints import PartnerEndpoints
from prakerja_infra.constructs.functions import Layers, PrakerjaFunction
from prakerja_infra.constructs.observability import Observability
from prakerja_infra.constructs.partners import PartnerSecrets
from prakerja_infra.constructs.workflows import (
    CardDeadlinesWorkflow,
    PayoutWorkflow,
    ReconciliationWorkflow,
    RegistrationWorkflow,
    SelectionWorkflow,
)
from prakerja_infra.nag import acknowledge, acknowledge_resource, resource_of
from prakerja_infra.routes import api_routes
from prakerja_infra.stage import StageConfig


class PrakerjaStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        for key, tag in {"program": "prakerja", "stage": stage.name}.items():
            Tags.of(self).add(key, tag)

        data = Data(self, "Data", stage=stage)
        endpoints = PartnerEndpoints(self, "Endpoints")
        auth = Auth(self, "Auth", stage=stage)
        layers = Layers(self, "Layers")

        def function(construct_id: str, handler: str, description: str, **environment: str) -> lambda_.Function:
            return PrakerjaFunction(
                self,
                construct_id,
                stage=stage,
                layers=layers,
                logs_key=data.logs_key,
                handler=handler,
                description=description,
                environment=environment,
                timeout_seconds=BATCH_STEP_TIMEOUTS.get(construct_id, DEFAULT_TIMEOUT_SECONDS),
            ).function

        personal_data_key = {"PERSONAL_DATA_KEY_ARN": data.personal_data_key.key_arn}
        hashing_secret = {"HASHING_SECRET_ARN": data.hashing_secret.secret_arn}

        # --- registration workflow (e-KYC + screening)
        verify_identity = function(
            "VerifyIdentity",
            "registration_workflow.verify_identity.lambda_handler",
            "Registration workflow: e-KYC against the civil registry",
            APPLICANTS_TABLE=data.applicants.table_name,
            CIVIL_REGISTRY_URL=endpoints.civil_registry_url,
            **personal_data_key,
        )
        allow_table(data.applicants, verify_identity, *APPLICANT_RECORDS)
        data.personal_data_key.grant(verify_identity, "kms:Decrypt")

        screen_eligibility = function(
            "ScreenEligibility",
            "registration_workflow.screen_eligibility.lambda_handler",
            "Registration workflow: eligibility rules and the decision",
            APPLICANTS_TABLE=data.applicants.table_name,
            EXCLUSIONS_TABLE=data.exclusions.table_name,
            **personal_data_key,
        )
        allow_table(data.applicants, screen_eligibility, *APPLICANT_RECORDS)
        data.exclusions.grant_read_data(screen_eligibility)
        data.personal_data_key.grant(screen_eligibility, "kms:Decrypt")

        registration = RegistrationWorkflow(
            self,
            "RegistrationWorkflow",
            stage=stage,
            logs_key=data.logs_key,
            verify_identity=verify_identity,
            screen_eligibility=screen_eligibility,
        )

        # --- selection workflow (snapshot, draw, outcomes, publication)
        selection, selection_steps = self._selection_workflow(stage, data, layers)
        selection_files = {"WAVES_TABLE": data.waves.table_name, "SELECTION_BUCKET": data.selection.bucket_name}

        # --- notifications: the outbox's new messages texted by SMS
        notifier, notifier_dead_letters = self._notifier(stage, data, function)

        # --- card deadlines: unused cards revoked nightly
        card_deadlines, card_deadline_steps = self._card_deadlines(stage, data, function)

        marketplace_tables = {"CATALOG_TABLE": data.catalog.table_name, "LEDGER_TABLE": data.ledger.table_name}

        # --- payouts: transfers through the payment partners, and their reconciliation
        partners = PartnerSecrets(self, "Partners", stage=stage, key=data.personal_data_key)
        payment_partners = {
            "PAYMENT_PARTNERS_URL": endpoints.payment_partners_url,
            "PARTNER_SECRET_NAME_PREFIX": partners.prefix,
            "PAYOUTS_TABLE": data.payouts.table_name,
        }
        payouts, reconciliation, payout_steps = self._payouts(stage, data, function, partners, payment_partners)

        # --- API functions
        public_api = function(
            "PublicApi",
            "public_api.handler.lambda_handler",
            "Public routes: health, the OpenAPI document and published draws",
            **selection_files,
        )
        data.waves.grant(public_api, "dynamodb:GetItem")
        allow_bucket_objects(data.selection, public_api, "s3:GetObject", prefix="draw/")
        applicant_api = self._applicant_api(
            data,
            function,
            registration.state_machine,
            partners,
            {**marketplace_tables, **payment_partners, **personal_data_key, **hashing_secret},
        )

        ops_api = function(
            "OpsApi",
            "ops_api.handler.lambda_handler",
            "Ops routes: exclusion lists, waves and their close, the catalog, the ledger",
            EXCLUSIONS_TABLE=data.exclusions.table_name,
            WAVES_TABLE=data.waves.table_name,
            SELECTION_STATE_MACHINE_ARN=selection.state_machine.state_machine_arn,
            PAYOUT_STATE_MACHINE_ARN=payouts.state_machine.state_machine_arn,
            RECONCILIATION_STATE_MACHINE_ARN=reconciliation.state_machine.state_machine_arn,
            PAYOUTS_BUCKET=data.payout_files.bucket_name,
            PAYOUTS_TABLE=data.payouts.table_name,
            **marketplace_tables,
            **hashing_secret,
        )
        data.catalog.grant(ops_api, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
        data.ledger.grant(ops_api, "dynamodb:BatchGetItem", "dynamodb:Query")  # the report, statements
        allow_ledger_postings(data.ledger, ops_api)  # budget allocations

        payouts.state_machine.grant_start_execution(ops_api)
        reconciliation.state_machine.grant_start_execution(ops_api)
        allow_bucket_objects(data.payout_files, ops_api, "s3:GetObject", prefix="reconciliations/")
        # The failed payouts: their index only, never a payout item (nor its account number).
        ops_api.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:Query"], resources=[f"{data.payouts.table_arn}/index/PayoutsFailed"])
        )
        partner_api = self._partner_api(data, function, partners)
        # A callback resumes the waiting transfer, always with success (the outcome is in the output).
        allow_task_success(partner_api, payouts.state_machine.state_machine_arn)
        data.exclusions.grant_read_write_data(ops_api)
        data.waves.grant_read_write_data(ops_api)
        data.hashing_secret.grant_read(ops_api)
        selection.state_machine.grant_start_execution(ops_api)

        api = Api(
            self,
            "Api",
            stage=stage,
            logs_key=data.logs_key,
            user_pool=auth.user_pool,
            # From the routers, through the OpenAPI document they make (prakerja_infra.routes).
            routes=api_routes(
                {"PublicApi": public_api, "ApplicantApi": applicant_api, "OpsApi": ops_api, "PartnerApi": partner_api}
            ),
        )

        functions = {
            "PublicApi": public_api,
            "ApplicantApi": applicant_api,
            "OpsApi": ops_api,
            "PartnerApi": partner_api,
            "VerifyIdentity": verify_identity,
            "ScreenEligibility": screen_eligibility,
            **selection_steps,
            "Notifier": notifier,
            **card_deadline_steps,
            **payout_steps,
        }
        _fixed_egress(self, stage, data, functions)
        Observability(
            self,
            "Observability",
            stage=stage,
            api=api.rest_api,
            functions=functions,
            tables=data.tables,
            table_indexes=data.table_indexes,
            state_machines={
                "Registration": registration.state_machine,
                "Selection": selection.state_machine,
                "CardDeadlines": card_deadlines.state_machine,
                "Payouts": payouts.state_machine,
                "Reconciliation": reconciliation.state_machine,
            },
            dead_letter_queues={"Notifier": notifier_dead_letters},
        )

        for name, fn in functions.items():
            _justify_lambda_role(fn, name, NOTIFIER_WILDCARDS if fn is notifier else "")

        outputs = {
            "ApiUrl": api.rest_api.url,
            "UserPoolId": auth.user_pool.user_pool_id,
            "UserPoolClientId": auth.client.user_pool_client_id,
            "RegistrationStateMachineArn": registration.state_machine.state_machine_arn,
            "SelectionStateMachineArn": selection.state_machine.state_machine_arn,
            "CardDeadlinesStateMachineArn": card_deadlines.state_machine.state_machine_arn,
            "PayoutStateMachineArn": payouts.state_machine.state_machine_arn,
            "ReconciliationStateMachineArn": reconciliation.state_machine.state_machine_arn,
            "PayoutsBucketName": data.payout_files.bucket_name,
        }
        for name, output in outputs.items():
            CfnOutput(self, name, value=output)

    def _applicant_api(
        self,
        data: Data,
        function: Callable[..., lambda_.Function],
        registration: sfn.StateMachine,
        partners: PartnerSecrets,
        environment: dict[str, str],
    ) -> lambda_.Function:
        applicant_api = function(
            "ApplicantApi",
            "applicant_api.handler.lambda_handler",
            "Applicant routes: profile, assessment, waves, the catalog and purchases",
            APPLICANTS_TABLE=data.applicants.table_name,
            WAVES_TABLE=data.waves.table_name,
            IDEMPOTENCY_TABLE=data.idempotency.table_name,
            ATTEMPTS_TABLE=data.attempts.table_name,
            REGISTRATION_STATE_MACHINE_ARN=registration.state_machine_arn,
            **environment,
        )
        # Reading the catalog; a purchase checks the course's price in its transaction; a review adds its rating.
        data.catalog.grant(
            applicant_api, "dynamodb:GetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem", "dynamodb:UpdateItem"
        )
        allow_ledger_postings(data.ledger, applicant_api)
        allow_table(data.applicants, applicant_api, *APPLICANT_RECORDS, "dynamodb:Query")  # + my purchases
        data.waves.grant_read_write_data(applicant_api)
        data.idempotency.grant_read_write_data(applicant_api)
        data.personal_data_key.grant(applicant_api, "kms:Encrypt", "kms:Decrypt")
        data.hashing_secret.grant_read(applicant_api)
        registration.grant_start_execution(applicant_api)
        allow_table(data.attempts, applicant_api, "dynamodb:UpdateItem")  # registrations, accounts, assessments
        # Payout account, incentives and survey responses; the partner's account inquiry (signed).
        allow_table(data.payouts, applicant_api, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
        allow_table(data.payouts, applicant_api, "dynamodb:Query")
        partners.grant_read(applicant_api, partner_type="PAYMENT")
        return applicant_api

    def _notifier(
        self, stage: StageConfig, data: Data, function: Callable[..., lambda_.Function]
    ) -> tuple[lambda_.Function, sqs.Queue]:
        notifier = function(
            "Notifier",
            "notifier.handler.lambda_handler",
            "Notifications: texts each new outbox message (SMS through SNS)",
            APPLICANTS_TABLE=data.applicants.table_name,
            OUTBOX_TABLE=data.outbox.table_name,
            PERSONAL_DATA_KEY_ARN=data.personal_data_key.key_arn,
            SMS_SENDER_ID=stage.sms_sender_id,
        )
        allow_table(data.applicants, notifier, "dynamodb:GetItem")
        data.outbox.grant(notifier, "dynamodb:UpdateItem")  # the claim, its release, the mark
        data.personal_data_key.grant(notifier, "kms:Decrypt")  # the phone number, at send time
        # SMS straight to a phone number: sns:Publish has no resource to name there.
        notifier.add_to_role_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=["*"]))
        dead_letters = sqs.Queue(
            self,
            "NotifierDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            resource_of(dead_letters),
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
                on_failure=event_sources.SqsDlq(dead_letters),
                # New messages only: marking one sent (a MODIFY) must not send it again.
                filters=[lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.is_equal("INSERT")})],
            )
        )
        self._sms_delivery_status_role()
        return notifier, dead_letters

    def _sms_delivery_status_role(self) -> None:
        """The role SNS writes SMS delivery receipts with (to CloudWatch Logs, sns/<region>/...).
        SNS takes it as an account attribute, which CloudFormation cannot set: docs/deploy.md
        runs `aws sns set-sms-attributes` with the role's ARN (the stack's output)."""
        role = iam.Role(
            self,
            "SmsDeliveryStatusRole",
            assumed_by=iam.ServicePrincipal("sns.amazonaws.com"),
            description="SNS: SMS delivery status (success and failure) written to CloudWatch Logs",
        )
        sms_log_groups = self.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"sns/{self.region}/{self.account}/DirectPublishToPhoneNumber*",
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
        CfnOutput(self, "SmsDeliveryStatusRoleArn", value=role.role_arn)

    def _partner_api(
        self, data: Data, function: Callable[..., lambda_.Function], partners: PartnerSecrets
    ) -> lambda_.Function:
        """Signed partner calls; each partner's secret in Secrets Manager."""
        partner_api = function(
            "PartnerApi",
            "partner_api.handler.lambda_handler",
            "Partner routes: voucher redemptions, course completions, payment callbacks (signed calls)",
            APPLICANTS_TABLE=data.applicants.table_name,
            PAYOUTS_TABLE=data.payouts.table_name,
            LEDGER_TABLE=data.ledger.table_name,
            ATTEMPTS_TABLE=data.attempts.table_name,
            PARTNER_SECRET_NAME_PREFIX=partners.prefix,
            PERSONAL_DATA_KEY_ARN=data.personal_data_key.key_arn,
        )
        allow_table(data.applicants, partner_api, "dynamodb:GetItem", "dynamodb:UpdateItem")
        data.personal_data_key.grant(partner_api, "kms:Decrypt")  # the buyer's name, masked before it leaves
        partners.grant_read(partner_api)
        # A payment callback settles its payout with the ledger posting, in one transaction.
        allow_table(data.payouts, partner_api, "dynamodb:GetItem", "dynamodb:PutItem")
        allow_ledger_postings(data.ledger, partner_api)
        allow_table(data.attempts, partner_api, "dynamodb:GetItem", "dynamodb:UpdateItem")  # voucher misses
        return partner_api

    def _payouts(
        self,
        stage: StageConfig,
        data: Data,
        function: Callable[..., lambda_.Function],
        partners: PartnerSecrets,
        payment_partners: dict[str, str],
    ) -> tuple[PayoutWorkflow, ReconciliationWorkflow, dict[str, lambda_.Function]]:
        collect = function(
            "CollectDuePayouts",
            "payout_workflow.collect_due.lambda_handler",
            "Payout workflow: the payouts due now, listed for the run",
            LEDGER_TABLE=data.ledger.table_name,
            PAYOUTS_BUCKET=data.payout_files.bucket_name,
            PERSONAL_DATA_KEY_ARN=data.personal_data_key.key_arn,
            PAYOUT_CALLBACK_TIMEOUT_SECONDS=str(stage.payout_callback_timeout_seconds),
            **payment_partners,
        )
        collect.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:Query"], resources=[f"{data.payouts.table_arn}/index/PayoutsDue"])
        )
        allow_bucket_objects(data.payout_files, collect, "s3:PutObject", prefix="payout-runs/")
        # Each run first checks the ledger's books: the running totals, read by key.
        allow_table(data.ledger, collect, "dynamodb:BatchGetItem")
        transfer_steps = {}
        for construct_id, module, description in (
            ("SendTransfer", "send_transfer", "a transfer requested from the payment partner"),
            ("CheckTransfer", "check_transfer", "a transfer's status asked from the payment partner"),
        ):
            step = function(
                construct_id,
                f"payout_workflow.{module}.lambda_handler",
                f"Payout workflow: {description}",
                LEDGER_TABLE=data.ledger.table_name,
                PAYOUTS_BUCKET=data.payout_files.bucket_name,
                PERSONAL_DATA_KEY_ARN=data.personal_data_key.key_arn,
                **payment_partners,
            )
            # The payout and its transfer guard, the rate-limit counters; the ledger postings.
            allow_table(data.payouts, step, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
            allow_ledger_postings(data.ledger, step)
            data.personal_data_key.grant(step, "kms:Decrypt")  # the account number, sent to the partner
            partners.grant_read(step, partner_type="PAYMENT")
            transfer_steps[construct_id] = step
        workflow = PayoutWorkflow(
            self,
            "PayoutWorkflow",
            stage=stage,
            logs_key=data.logs_key,
            bucket=data.payout_files,
            collect=collect,
            send=transfer_steps["SendTransfer"],
            check=transfer_steps["CheckTransfer"],
        )
        # A transfer settled at once resumes its own wait. Named, not referenced: the state
        # machine's definition already refers to these functions (no dependency cycle).
        payout_machine_arn = self.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=f"prakerja-{stage.name}-payouts",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        for step in transfer_steps.values():
            allow_task_success(step, payout_machine_arn)

        reconcile = function(
            "ReconcileSettlement",
            "reconciliation.reconcile_settlement.lambda_handler",
            "Reconciliation: a partner's settlement report against the ledger",
            LEDGER_TABLE=data.ledger.table_name,
            PAYOUTS_BUCKET=data.payout_files.bucket_name,
        )
        data.ledger.grant(reconcile, "dynamodb:Query")
        allow_bucket_objects(data.payout_files, reconcile, "s3:GetObject", prefix="settlements/")
        allow_bucket_objects(data.payout_files, reconcile, "s3:PutObject", prefix="reconciliations/")
        reconciliation = ReconciliationWorkflow(
            self,
            "ReconciliationWorkflow",
            stage=stage,
            logs_key=data.logs_key,
            bucket=data.payout_files,
            reconcile=reconcile,
        )
        steps = {"CollectDuePayouts": collect, **transfer_steps, "ReconcileSettlement": reconcile}
        return workflow, reconciliation, steps

    def _card_deadlines(
        self, stage: StageConfig, data: Data, function: Callable[..., lambda_.Function]
    ) -> tuple[CardDeadlinesWorkflow, dict[str, lambda_.Function]]:
        waves = {"WAVES_TABLE": data.waves.table_name}
        plan = function(
            "PlanCardSweep", "card_deadlines.plan_sweep.lambda_handler", "Card deadlines: due waves", **waves
        )
        data.waves.grant(plan, "dynamodb:Query")
        sweep = function(
            "RevokeUnusedCards",
            "card_deadlines.sweep_shard.lambda_handler",
            "Card deadlines: a page of one shard's unused cards revoked",
            APPLICANTS_TABLE=data.applicants.table_name,
            EXCLUSIONS_TABLE=data.exclusions.table_name,
            OUTBOX_TABLE=data.outbox.table_name,
            LEDGER_TABLE=data.ledger.table_name,
            **waves,
        )
        # The due cards' index, the profile and its revocation; the blacklist entry; the notice.
        sweep.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:Query"], resources=[f"{data.applicants.table_arn}/index/CardsDue"])
        )
        allow_table(data.applicants, sweep, "dynamodb:GetItem", "dynamodb:UpdateItem")
        data.exclusions.grant(sweep, "dynamodb:PutItem")
        data.outbox.grant(sweep, "dynamodb:PutItem")
        allow_ledger_postings(data.ledger, sweep)  # unused balances returned to the Treasury
        finish = function(
            "FinishCardSweep",
            "card_deadlines.finish_sweep.lambda_handler",
            "Card deadlines: waves marked swept",
            **waves,
        )
        data.waves.grant(finish, "dynamodb:UpdateItem")
        workflow = CardDeadlinesWorkflow(
            self,
            "CardDeadlinesWorkflow",
            stage=stage,
            logs_key=data.logs_key,
            plan=plan,
            sweep_shard=sweep,
            finish=finish,
        )
        return workflow, {"PlanCardSweep": plan, "RevokeUnusedCards": sweep, "FinishCardSweep": finish}

    def _selection_workflow(
        self, stage: StageConfig, data: Data, layers: Layers
    ) -> tuple[SelectionWorkflow, dict[str, lambda_.Function]]:
        """The five step functions, each with exactly what it reads and writes, and the workflow."""

        def allow_objects(fn: lambda_.Function, *actions: str, prefix: str) -> None:
            allow_bucket_objects(data.selection, fn, *actions, prefix=prefix)

        selection_files = {"WAVES_TABLE": data.waves.table_name, "SELECTION_BUCKET": data.selection.bucket_name}
        read_wave = ("dynamodb:GetItem",)

        def selection_step(construct_id: str, step: str, description: str, **environment: str) -> lambda_.Function:
            return PrakerjaFunction(
                self,
                construct_id,
                stage=stage,
                layers=layers,
                logs_key=data.logs_key,
                handler=f"selection_workflow.{step}.lambda_handler",
                description=f"Selection workflow: {description}",
                environment={**selection_files, **environment},
                timeout_seconds=900,  # a shard of a 6 M wave: ~94 k participants (docs/selection.md)
                memory_mb=stage.selection_memory_mb,
            ).function

        plan_selection = selection_step("PlanSelection", "plan_selection", "the shard descriptors")
        data.waves.grant(plan_selection, *read_wave)
        allow_objects(plan_selection, "s3:PutObject", prefix="selection/")

        snapshot_shard = selection_step(
            "SnapshotShard",
            "snapshot_shard",
            "one shard re-screened, exported and summarized",
            EXCLUSIONS_TABLE=data.exclusions.table_name,
        )
        data.waves.grant(snapshot_shard, *read_wave, "dynamodb:Query")
        data.exclusions.grant(snapshot_shard, "dynamodb:Query")
        allow_objects(snapshot_shard, "s3:GetObject", "s3:PutObject", prefix="selection/")

        merge_draw = selection_step("MergeDraw", "merge_draw", "the draw's thresholds from every shard")
        data.waves.grant(merge_draw, *read_wave)
        allow_objects(merge_draw, "s3:GetObject", "s3:PutObject", prefix="selection/")

        apply_shard = selection_step(
            "ApplyShard",
            "apply_shard",
            "one shard's outcomes, cards, notifications and published pages",
            APPLICANTS_TABLE=data.applicants.table_name,
            OUTBOX_TABLE=data.outbox.table_name,
            LEDGER_TABLE=data.ledger.table_name,
        )
        data.waves.grant(apply_shard, *read_wave)
        allow_ledger_postings(data.ledger, apply_shard)  # each card funded from the program budget
        # Outcome transactions: the profile update, the card-number guard put, the outbox put.
        allow_table(data.applicants, apply_shard, "dynamodb:UpdateItem", "dynamodb:PutItem")
        data.outbox.grant(apply_shard, "dynamodb:PutItem")
        allow_objects(apply_shard, "s3:GetObject", prefix="selection/")
        allow_objects(apply_shard, "s3:PutObject", prefix="draw/")

        publish_result = selection_step("PublishResult", "publish_result", "the wave's report, published")
        data.waves.grant(publish_result, *read_wave, "dynamodb:UpdateItem")
        allow_objects(publish_result, "s3:GetObject", prefix="selection/")

        workflow = SelectionWorkflow(
            self,
            "SelectionWorkflow",
            stage=stage,
            logs_key=data.logs_key,
            bucket=data.selection,
            plan=plan_selection,
            snapshot_shard=snapshot_shard,
            merge_draw=merge_draw,
            apply_shard=apply_shard,
            publish_result=publish_result,
        )

        steps = {
            "PlanSelection": plan_selection,
            "SnapshotShard": snapshot_shard,
            "MergeDraw": merge_draw,
            "ApplyShard": apply_shard,
            "PublishResult": publish_result,
        }
        return workflow, steps


def allow_bucket_objects(bucket: s3.Bucket, fn: lambda_.Function, *actions: str, prefix: str) -> None:
    """Exact S3 actions on one prefix of a bucket (the grant_* helpers would add wildcards)."""
    fn.add_to_role_policy(iam.PolicyStatement(actions=list(actions), resources=[bucket.arn_for_objects(f"{prefix}*")]))
    stack = Stack.of(bucket)
    bucket_id = stack.resolve(stack.get_logical_id(bucket.node.default_child))  # type: ignore[arg-type]
    assert fn.role is not None
    acknowledge(
        fn.role,
        f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]",
        f"Objects are named at run time (per wave, shard, run or report) under {prefix}: the grant is "
        "that prefix, no wider.",
    )


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


# A profile and its guard items, read and written (transactions need ConditionCheckItem).
APPLICANT_RECORDS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem")


def allow_table(table: dynamodb.ITable, fn: lambda_.Function, *actions: str) -> None:
    """Exact actions on the table itself. Table.grant() would add ``<table>/index/*`` for a
    table with indexes: only the one function that queries an index is granted that index."""
    fn.add_to_role_policy(iam.PolicyStatement(actions=list(actions), resources=[table.table_arn]))


def allow_ledger_postings(ledger: dynamodb.ITable, fn: lambda_.Function) -> None:
    """The ledger is append-only: postings and entries are put, and only the running totals
    (keys TOTAL#...) may be updated, by ADD. No function may change or delete a posting."""
    fn.add_to_role_policy(iam.PolicyStatement(actions=["dynamodb:PutItem"], resources=[ledger.table_arn]))
    fn.add_to_role_policy(
        iam.PolicyStatement(
            actions=["dynamodb:UpdateItem"],
            resources=[ledger.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["TOTAL#*"]}},
        )
    )


# The functions that call partners out (e-KYC, account inquiries, transfers and their status).
PARTNER_CALLERS = ("VerifyIdentity", "ApplicantApi", "SendTransfer", "CheckTransfer")


def _fixed_egress(scope: Construct, stage: StageConfig, data: Data, functions: dict[str, lambda_.Function]) -> None:
    """With StageConfig.fixed_egress, the partner callers leave through the NAT gateways' Elastic IPs."""
    if not stage.fixed_egress:
        return
    egress = Egress(scope, "Egress", stage=stage, logs_key=data.logs_key)
    for name in PARTNER_CALLERS:
        egress.place(functions[name])


def allow_task_success(fn: lambda_.Function, state_machine_arn: str) -> None:
    """A task token's callback, for the state machine's own executions and for its Distributed Map's
    child executions: a child's state machine ARN carries the map run's label
    (``stateMachine:<name>/<label>``), which the machine's ARN alone would not match."""
    children = f"{state_machine_arn}/*"
    fn.add_to_role_policy(
        iam.PolicyStatement(actions=["states:SendTaskSuccess"], resources=[state_machine_arn, children])
    )
    assert fn.role is not None
    acknowledge_resource(
        fn.role,
        "AwsSolutions-IAM5",
        children,
        "The payout state machine's Distributed Map runs each transfer in a child execution whose state "
        "machine ARN is this machine's with the map run's label appended; only its callbacks are allowed.",
    )


NOTIFIER_WILDCARDS = (
    " SMS to a phone number (sns:Publish) and dynamodb:ListStreams (lists stream ARNs, no data)"
    " have no resource to name."
)


def _justify_lambda_role(fn: lambda_.Function, name: str, also: str) -> None:
    role = fn.role
    assert isinstance(role, iam.Role)
    acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::*]",
        f"{name}: X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions.{also}",
    )
