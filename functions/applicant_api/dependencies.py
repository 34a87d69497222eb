"""Wiring of the applicant API: settings from the environment, AWS clients, services.
Made once per process, at the first call that needs each (never at import: SnapStart)."""

from __future__ import annotations

from functools import cache

from prakerja.adapters import aws, payouts_wiring
from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository
from prakerja.adapters.dynamodb_attempts import DynamoDBAttemptCounter
from prakerja.adapters.dynamodb_grievances import DynamoDBTickets, TicketVault
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.adapters.dynamodb_marketplace import DynamoDBCatalog, DynamoDBPurchases
from prakerja.adapters.dynamodb_waves import DynamoDBWaveRepository
from prakerja.adapters.kms_cipher import KmsCipher
from prakerja.adapters.secrets_hasher import load_keyring
from prakerja.adapters.stepfunctions_starter import StepFunctionsStarter
from prakerja.clock import SystemClock, WallClock
from prakerja.config import ApplicantApiSettings, load_settings
from prakerja.grievances.service import GrievanceService
from prakerja.http.idempotency import IdempotentResponses
from prakerja.limits import AttemptLimiter
from prakerja.marketplace.service import CatalogService, MarketplaceService
from prakerja.observability import logger
from prakerja.partners import load_partners
from prakerja.payouts.service import IncentiveService, PayoutAccountService
from prakerja.program import load_program
from prakerja.registration.service import PersonalDataVault, RegistrationService
from prakerja.waves.service import WaveService


@cache
def settings() -> ApplicantApiSettings:
    return load_settings(ApplicantApiSettings)


@cache
def idempotent_responses() -> IdempotentResponses:
    return IdempotentResponses(settings().idempotency_table)


@cache
def applicants() -> DynamoDBApplicantRepository:
    return DynamoDBApplicantRepository(aws.dynamodb(), settings().applicants_table)


@cache
def wave_service() -> WaveService:
    config = settings()
    waves = DynamoDBWaveRepository(aws.dynamodb(), config.waves_table, config.applicants_table)
    return WaveService(waves=waves, clock=SystemClock(), applicants=applicants())


@cache
def catalog() -> DynamoDBCatalog:
    return DynamoDBCatalog(aws.dynamodb(), settings().catalog_table)


@cache
def catalog_service() -> CatalogService:
    return CatalogService(catalog(), load_partners(), SystemClock())


@cache
def purchases() -> DynamoDBPurchases:
    config = settings()
    client = aws.dynamodb()
    ledger = DynamoDBLedger(client, config.ledger_table)
    return DynamoDBPurchases(client, config.applicants_table, config.catalog_table, ledger)


@cache
def marketplace_service() -> MarketplaceService:
    return MarketplaceService(catalog(), purchases(), applicants(), SystemClock())


@cache
def vault() -> PersonalDataVault:
    return PersonalDataVault(KmsCipher(aws.kms(), settings().personal_data_key_arn))


@cache
def incentive_service() -> IncentiveService:
    config = settings()
    return IncentiveService(
        applicants=applicants(),
        purchases=purchases(),
        accounts=payouts_wiring.payout_accounts(config.payouts_table),
        payouts=payouts_wiring.payouts(config.payouts_table, config.ledger_table),
        program=load_program(),
        clock=SystemClock(),
    )


@cache
def payout_account_service() -> PayoutAccountService:
    config = settings()
    return PayoutAccountService(
        applicants=applicants(),
        vault=vault(),
        numbers=payouts_wiring.account_numbers(config.personal_data_key_arn),
        accounts=payouts_wiring.payout_accounts(config.payouts_table),
        partners=payouts_wiring.payment_partners(config),
        incentives=incentive_service(),
        clock=SystemClock(),
    )


@cache
def registration_service() -> RegistrationService:
    config = settings()
    return RegistrationService(
        applicants=applicants(),
        vault=vault(),
        keyring=load_keyring(aws.secretsmanager(), config.hashing_secret_arn),
        workflow=StepFunctionsStarter(
            aws.stepfunctions(),
            config.registration_state_machine_arn,
            request_id=logger.get_correlation_id,  # API Gateway's request id (handler.py)
        ),
        clock=SystemClock(),
    )


@cache
def attempt_limiter() -> AttemptLimiter:
    # Abuse windows are real time, whatever the program's (simulated) clock says.
    return AttemptLimiter(DynamoDBAttemptCounter(aws.dynamodb(), settings().attempts_table), WallClock())


@cache
def grievance_service() -> GrievanceService:
    vault = TicketVault(KmsCipher(aws.kms(), settings().personal_data_key_arn))
    tickets = DynamoDBTickets(aws.dynamodb(), settings().cases_table, vault)
    return GrievanceService(tickets, load_program().grievances, SystemClock())
