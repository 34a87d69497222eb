"""The functions behind the API's routes (public, applicant, ops, partner), each with exactly the
grants its routes use. Which route each serves comes from the OpenAPI document
(prakerja_infra.routes); the Api construct makes the routes."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from prakerja_infra.constructs.data import Data
from prakerja_infra.constructs.functions import FunctionFactory
from prakerja_infra.constructs.grants import (
    APPLICANT_RECORDS,
    allow_actions,
    allow_audit_append,
    allow_audit_read,
    allow_bucket_objects,
    allow_case_work,
    allow_index_query,
    allow_ledger_postings,
    allow_registration_restarts,
    allow_table,
    allow_task_success,
    allow_ticket_messages,
    allow_tickets,
)
from prakerja_infra.constructs.partners import PartnerSecrets


class ApiFunctions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: Data,
        function: FunctionFactory,
        partners: PartnerSecrets,
        payment_partners: Mapping[str, str],
        registration: sfn.StateMachine,
        selection: sfn.StateMachine,
        payouts: sfn.StateMachine,
        reconciliation: sfn.StateMachine,
    ) -> None:
        super().__init__(scope, construct_id)
        self._data = data
        self._make = function
        marketplace = {"CATALOG_TABLE": data.catalog.table_name, "LEDGER_TABLE": data.ledger.table_name}
        hashing_secret = {"HASHING_SECRET_ARN": data.hashing_secret.secret_arn}
        self.aliases: dict[str, lambda_.Alias] = {}
        self.functions: dict[str, lambda_.Function] = {
            "PublicApi": self._public_api(),
            "ApplicantApi": self._applicant_api(
                registration,
                partners,
                {
                    **marketplace,
                    **payment_partners,
                    **hashing_secret,
                    "PERSONAL_DATA_KEY_ARN": data.personal_data_key.key_arn,
                },
            ),
            "OpsApi": self._ops_api(
                registration, selection, payouts, reconciliation, {**marketplace, **hashing_secret}
            ),
            "PartnerApi": self._partner_api(partners, payouts),
        }

    def _function(
        self, construct_id: str, handler: str, description: str, environment: Mapping[str, str]
    ) -> lambda_.Function:
        """A route's function: API Gateway invokes its ``live`` alias (SnapStart, prakerja.snapstart)."""
        function, alias = self._make.published(self, construct_id, handler, description, environment=environment)
        self.aliases[construct_id] = alias
        return function

    def _public_api(self) -> lambda_.Function:
        data = self._data
        public_api = self._function(
            "PublicApi",
            "public_api.handler.lambda_handler",
            "Public routes: health, the OpenAPI document and published draws",
            {"WAVES_TABLE": data.waves.table_name, "SELECTION_BUCKET": data.selection.bucket_name},
        )
        data.waves.grant(public_api, "dynamodb:GetItem")
        allow_bucket_objects(data.selection, public_api, "s3:GetObject", prefix="draw/")
        return public_api

    def _applicant_api(
        self, registration: sfn.StateMachine, partners: PartnerSecrets, environment: Mapping[str, str]
    ) -> lambda_.Function:
        data = self._data
        applicant_api = self._function(
            "ApplicantApi",
            "applicant_api.handler.lambda_handler",
            "Applicant routes: profile, assessment, waves, the catalog and purchases",
            {
                "APPLICANTS_TABLE": data.applicants.table_name,
                "WAVES_TABLE": data.waves.table_name,
                "IDEMPOTENCY_TABLE": data.idempotency.table_name,
                "ATTEMPTS_TABLE": data.attempts.table_name,
                "CASES_TABLE": data.cases.table_name,
                "REGISTRATION_STATE_MACHINE_ARN": registration.state_machine_arn,
                **environment,
            },
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
        allow_registration_restarts(applicant_api, registration)  # registrations and corrections
        allow_table(data.attempts, applicant_api, "dynamodb:UpdateItem")  # registrations, accounts, tests, complaints
        # Complaints: a ticket and my list's row put, updated with a reply, read by one query each.
        allow_tickets(data.cases, applicant_api, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query")
        # Payout account, incentives and survey responses; the partner's account inquiry (signed).
        allow_table(data.payouts, applicant_api, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
        allow_table(data.payouts, applicant_api, "dynamodb:Query")
        partners.grant_read(applicant_api, partner_type="PAYMENT")
        return applicant_api

    def _ops_api(
        self,
        registration: sfn.StateMachine,
        selection: sfn.StateMachine,
        payouts: sfn.StateMachine,
        reconciliation: sfn.StateMachine,
        environment: Mapping[str, str],
    ) -> lambda_.Function:
        data = self._data
        ops_api = self._function(
            "OpsApi",
            "ops_api.handler.lambda_handler",
            "Ops routes: exclusion lists, waves and their close, the catalog, the ledger, complaints, cases",
            {
                "EXCLUSIONS_TABLE": data.exclusions.table_name,
                "WAVES_TABLE": data.waves.table_name,
                "SELECTION_STATE_MACHINE_ARN": selection.state_machine_arn,
                "PAYOUT_STATE_MACHINE_ARN": payouts.state_machine_arn,
                "RECONCILIATION_STATE_MACHINE_ARN": reconciliation.state_machine_arn,
                "PAYOUTS_BUCKET": data.payout_files.bucket_name,
                "PAYOUTS_TABLE": data.payouts.table_name,
                "AUDIT_TABLE": data.audit_log.table_name,
                "CASES_TABLE": data.cases.table_name,
                "APPLICANTS_TABLE": data.applicants.table_name,
                "OUTBOX_TABLE": data.outbox.table_name,
                "REGISTRATION_STATE_MACHINE_ARN": registration.state_machine_arn,
                "PERSONAL_DATA_KEY_ARN": data.personal_data_key.key_arn,
                **environment,
            },
        )
        allow_audit_append(data.audit_log, ops_api)  # every change an ops call makes
        allow_audit_read(data.audit_log, ops_api)
        # The case view and actions: an applicant's own partitions and a family card's places only.
        allow_case_work(data.applicants, data.payouts, ops_api)
        allow_registration_restarts(ops_api, registration)  # REVERIFY
        # Complaints: a ticket read whole (one query) and answered (its row in the list rewritten);
        # the queue from its index; the applicant's notice; the messages, bound to their ticket.
        allow_tickets(data.cases, ops_api, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query")
        allow_index_query(data.cases, "ComplaintQueue", ops_api)
        allow_ticket_messages(data.personal_data_key, ops_api, "kms:Encrypt", "kms:Decrypt")
        data.catalog.grant(ops_api, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
        data.ledger.grant(ops_api, "dynamodb:BatchGetItem", "dynamodb:Query")  # the report, statements
        allow_ledger_postings(data.ledger, ops_api)  # budget allocations
        payouts.grant_start_execution(ops_api)
        reconciliation.grant_start_execution(ops_api)
        allow_bucket_objects(data.payout_files, ops_api, "s3:GetObject", prefix="reconciliations/")
        # The failed payouts: their index only, never a payout item (nor its account number).
        allow_index_query(data.payouts, "PayoutsFailed", ops_api)
        # Ops actions (prakerja.cases): the actions, their copies per applicant and the approvals
        # queue; a profile read (never decrypted: no KMS grant) and, approved, its card revoked
        # with the card sweep's items (outbox, blacklist, ledger); the payout hold item put and
        # deleted (IAM cannot narrow a grant to one sort key: the adapter writes only that key).
        allow_actions(data.cases, ops_api, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query")
        allow_index_query(data.cases, "ActionsPending", ops_api)
        allow_table(data.outbox, ops_api, "dynamodb:PutItem")
        data.exclusions.grant_read_write_data(ops_api)
        data.waves.grant_read_write_data(ops_api)
        data.hashing_secret.grant_read(ops_api)
        selection.grant_start_execution(ops_api)
        return ops_api

    def _partner_api(self, partners: PartnerSecrets, payouts: sfn.StateMachine) -> lambda_.Function:
        """Signed partner calls; each partner's secret in Secrets Manager."""
        data = self._data
        partner_api = self._function(
            "PartnerApi",
            "partner_api.handler.lambda_handler",
            "Partner routes: voucher redemptions, course completions, payment callbacks (signed calls)",
            {
                "APPLICANTS_TABLE": data.applicants.table_name,
                "PAYOUTS_TABLE": data.payouts.table_name,
                "LEDGER_TABLE": data.ledger.table_name,
                "ATTEMPTS_TABLE": data.attempts.table_name,
                "PARTNER_SECRET_NAME_PREFIX": partners.prefix,
                "PERSONAL_DATA_KEY_ARN": data.personal_data_key.key_arn,
            },
        )
        allow_table(data.applicants, partner_api, "dynamodb:GetItem", "dynamodb:UpdateItem")
        data.personal_data_key.grant(partner_api, "kms:Decrypt")  # the buyer's name, masked before it leaves
        partners.grant_read(partner_api)
        # A payment callback settles its payout with the ledger posting, in one transaction.
        allow_table(data.payouts, partner_api, "dynamodb:GetItem", "dynamodb:PutItem")
        allow_ledger_postings(data.ledger, partner_api)
        allow_table(data.attempts, partner_api, "dynamodb:GetItem", "dynamodb:UpdateItem")  # voucher misses
        # A callback resumes the waiting transfer, always with success (the outcome is in the output).
        allow_task_success(partner_api, payouts.state_machine_arn)
        return partner_api
