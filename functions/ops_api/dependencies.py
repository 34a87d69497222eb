"""Wiring of the ops API, made once per process at the first call that needs it."""

from __future__ import annotations

from functools import cache

from prakerja.adapters import aws
from prakerja.adapters.dynamodb_audit import DynamoDBAuditLog
from prakerja.adapters.dynamodb_exclusions import DynamoDBExclusionRepository
from prakerja.adapters.dynamodb_grievances import DynamoDBTickets, TicketVault
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.adapters.dynamodb_marketplace import DynamoDBCatalog
from prakerja.adapters.dynamodb_payouts import DynamoDBFailedPayouts
from prakerja.adapters.dynamodb_waves import DynamoDBWaveRepository
from prakerja.adapters.kms_cipher import KmsCipher
from prakerja.adapters.s3_objects import S3ObjectStore
from prakerja.adapters.secrets_hasher import load_keyring
from prakerja.adapters.stepfunctions_starter import ExecutionStarter, SelectionWorkflowStarter
from prakerja.clock import SystemClock
from prakerja.config import OpsApiSettings, load_settings
from prakerja.exclusions import ExclusionListService
from prakerja.grievances.service import GrievanceService
from prakerja.ledger.service import LedgerService
from prakerja.marketplace.service import CatalogService
from prakerja.partners import load_partners
from prakerja.payouts.failures import PayoutFailures
from prakerja.payouts.operations import PayoutOperations
from prakerja.program import load_program
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
        keyring=load_keyring(aws.secretsmanager(), config.hashing_secret_arn),
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
def grievance_service() -> GrievanceService:
    """Answers write their audit entry and the applicant's notice in their own transaction."""
    config = settings()
    tickets = DynamoDBTickets(
        aws.dynamodb(),
        config.cases_table,
        TicketVault(KmsCipher(aws.kms(), config.personal_data_key_arn)),
        audit=audit_trail(),
        outbox_table=config.outbox_table,
    )
    return GrievanceService(tickets, load_program().grievances, SystemClock())
