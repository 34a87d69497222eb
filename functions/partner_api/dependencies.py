"""Wiring of the partner API, made once per process at the first call that needs it."""

from __future__ import annotations

from functools import cache

from prakerja.adapters import aws, payouts_wiring
from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository
from prakerja.adapters.dynamodb_attempts import DynamoDBAttemptCounter
from prakerja.adapters.dynamodb_marketplace import DynamoDBVouchers
from prakerja.adapters.kms_cipher import KmsCipher
from prakerja.adapters.partner_secrets import SecretsManagerPartnerSecrets
from prakerja.clock import SystemClock, WallClock
from prakerja.config import PartnerApiSettings, load_settings
from prakerja.limits import AttemptLimiter
from prakerja.marketplace.service import PartnerService, ProfileBuyerNames
from prakerja.payouts.service import Settlements
from prakerja.registration.service import PersonalDataVault


@cache
def settings() -> PartnerApiSettings:
    return load_settings(PartnerApiSettings)


@cache
def partner_secrets() -> SecretsManagerPartnerSecrets:
    return payouts_wiring.partner_secrets(settings())


@cache
def settlements() -> Settlements:
    config = settings()
    return payouts_wiring.settlements(config.payouts_table, config.ledger_table)


@cache
def applicants() -> DynamoDBApplicantRepository:
    return DynamoDBApplicantRepository(aws.dynamodb(), settings().applicants_table)


@cache
def vault() -> PersonalDataVault:
    return PersonalDataVault(KmsCipher(aws.kms(), settings().personal_data_key_arn))


@cache
def partner_service() -> PartnerService:
    vouchers = DynamoDBVouchers(aws.dynamodb(), settings().applicants_table)
    return PartnerService(vouchers, ProfileBuyerNames(applicants(), vault()), SystemClock())


@cache
def attempt_limiter() -> AttemptLimiter:
    # Abuse windows are real time, whatever the program's (simulated) clock says.
    return AttemptLimiter(DynamoDBAttemptCounter(aws.dynamodb(), settings().attempts_table), WallClock())
