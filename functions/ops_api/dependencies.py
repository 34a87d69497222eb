"""Wiring of the ops API, made once per process at the first call that needs it."""

from __future__ import annotations

from functools import cache

from prakerja.adapters import aws, payouts_wiring
from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository
from prakerja.adapters.dynamodb_audit import DynamoDBAuditLog
from prakerja.adapters.dynamodb_cards import DynamoDBDueCards
from prakerja.adapters.dynamodb_cases import DynamoDBCaseFacts, DynamoDBCases
from prakerja.adapters.dynamodb_exclusions import DynamoDBExclusionRepository
from prakerja.adapters.dynamodb_grievances import DynamoDBTickets, TicketVault
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.adapters.dynamodb_marketplace import DynamoDBCatalog, DynamoDBPurchases
from prakerja.adapters.dynamodb_payouts import DynamoDBFailedPayouts
from prakerja.adapters.dynamodb_waves import DynamoDBWaveRepository
from prakerja.adapters.kms_cipher import KmsCipher
from prakerja.adapters.s3_objects import S3ObjectStore
from prakerja.adapters.secrets_hasher import load_keyring
from prakerja.adapters.stepfunctions_starter import ExecutionStarter, SelectionWorkflowStarter, StepFunctionsStarter
from prakerja.cases.case_view import CaseFiles, action_events, ticket_events
from prakerja.cases.ports import Reverifier
from prakerja.cases.service import ActionService
from prakerja.clock import SystemClock
from prakerja.config import OpsApiSettings, load_settings
from prakerja.exclusions import ExclusionListService
from prakerja.grievances.service import GrievanceService
from prakerja.ledger.service import LedgerService
from prakerja.marketplace.service import CatalogService
from prakerja.observability import logger
from prakerja.partners import load_partners
from prakerja.payouts.failures import PayoutFailures
from prakerja.payouts.operations import PayoutOperations
from prakerja.personal_data import HashingKeyring
from prakerja.program import load_program
from prakerja.registration.service import Reverification
from prakerja.waves.service import WaveService


@cache
def settings() -> OpsApiSettings:
    return load_settings(OpsApiSettings)


@cache
def wave_service() -> WaveService:
    config = settings()
    return WaveService(
        waves=DynamoDBWaveRepository(aws.dynamodb(), config.waves_table),
        clock=SystemClock(),
        selection=SelectionWorkflowStarter(aws.stepfunctions(), config.selection_state_machine_arn),
    )


@cache
def exclusion_lists() -> ExclusionListService:
    config = settings()
    return ExclusionListService(
        lists=DynamoDBExclusionRepository(aws.dynamodb(), config.exclusions_table),
        keyring=keyring(),
        clock=SystemClock(),
    )


@cache
def catalog_service() -> CatalogService:
    return CatalogService(DynamoDBCatalog(aws.dynamodb(), settings().catalog_table), load_partners(), SystemClock())


@cache
def ledger_service() -> LedgerService:
    return LedgerService(DynamoDBLedger(aws.dynamodb(), settings().ledger_table), load_partners(), SystemClock())


@cache
def payout_operations() -> PayoutOperations:
    config = settings()
    sfn = aws.stepfunctions()
    return PayoutOperations(
        runs=ExecutionStarter(sfn, config.payout_state_machine_arn),
        reconciliations=ExecutionStarter(sfn, config.reconciliation_state_machine_arn),
        files=S3ObjectStore(aws.s3(), config.payouts_bucket),
        clock=SystemClock(),
    )


@cache
def payout_failures() -> PayoutFailures:
    return PayoutFailures(DynamoDBFailedPayouts(aws.dynamodb(), settings().payouts_table))


@cache
def audit_trail() -> DynamoDBAuditLog:
    return DynamoDBAuditLog(aws.dynamodb(), settings().audit_table)


@cache
def keyring() -> HashingKeyring:
    return load_keyring(aws.secretsmanager(), settings().hashing_secret_arn)


@cache
def applicants() -> DynamoDBApplicantRepository:
    return DynamoDBApplicantRepository(aws.dynamodb(), settings().applicants_table)


@cache
def case_files() -> CaseFiles:
    config = settings()
    client = aws.dynamodb()
    return CaseFiles(
        profiles=applicants(),
        purchases=DynamoDBPurchases(
            client, config.applicants_table, config.catalog_table, DynamoDBLedger(client, config.ledger_table)
        ),
        payouts=payouts_wiring.payouts(config.payouts_table, config.ledger_table),
        accounts=payouts_wiring.payout_accounts(config.payouts_table),
        keyring=keyring,
        more_history=[action_events(cases()), ticket_events(tickets())],
    )


@cache
def reverifier() -> Reverifier:
    """REVERIFY: the registration workflow's next attempt on the profile as it stands."""
    starter = StepFunctionsStarter(
        aws.stepfunctions(), settings().registration_state_machine_arn, request_id=logger.get_correlation_id
    )
    return Reverification(applicants(), starter, SystemClock())


@cache
def cases() -> DynamoDBCases:
    config = settings()
    db = aws.dynamodb()
    cards = DynamoDBDueCards(
        db,
        config.applicants_table,
        config.exclusions_table,
        config.outbox_table,
        DynamoDBLedger(db, config.ledger_table),
    )
    return DynamoDBCases(db, config.cases_table, audit_trail(), cards, config.exclusions_table, config.payouts_table)


@cache
def action_service() -> ActionService:
    config = settings()
    return ActionService(
        actions=cases(),
        facts=DynamoDBCaseFacts(aws.dynamodb(), applicants(), config.exclusions_table, config.payouts_table),
        reverifier=reverifier,
        clock=SystemClock(),
    )


@cache
def tickets() -> DynamoDBTickets:
    """Answers write their audit entry and the applicant's notice in their own transaction."""
    config = settings()
    return DynamoDBTickets(
        aws.dynamodb(),
        config.cases_table,
        TicketVault(KmsCipher(aws.kms(), config.personal_data_key_arn)),
        audit=audit_trail(),
        outbox_table=config.outbox_table,
    )


@cache
def grievance_service() -> GrievanceService:
    return GrievanceService(tickets(), load_program().grievances, SystemClock())
