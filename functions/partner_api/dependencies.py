"""Wiring of the partner API, built once per cold start."""

from __future__ import annotations

from functools import cache

import boto3

from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository
from prakerja.adapters.dynamodb_marketplace import DynamoDBVouchers
from prakerja.adapters.kms_cipher import KmsCipher
from prakerja.adapters.partner_secrets import SecretsManagerPartnerSecrets
from prakerja.clock import SystemClock
from prakerja.config import PartnerApiSettings, load_settings
from prakerja.marketplace.service import PartnerService, ProfileBuyerNames
from prakerja.registration.service import PersonalDataVault


@cache
def settings() -> PartnerApiSettings:
    return load_settings(PartnerApiSettings)


@cache
def partner_secrets() -> SecretsManagerPartnerSecrets:
    config = settings()
    return SecretsManagerPartnerSecrets(
        boto3.client("secretsmanager"), config.partner_secret_name_prefix, config.partner_secret_max_age_seconds
    )


@cache
def applicants() -> DynamoDBApplicantRepository:
    return DynamoDBApplicantRepository(boto3.client("dynamodb"), settings().applicants_table)


@cache
def vault() -> PersonalDataVault:
    return PersonalDataVault(KmsCipher(boto3.client("kms"), settings().personal_data_key_arn))


@cache
def partner_service() -> PartnerService:
    vouchers = DynamoDBVouchers(boto3.client("dynamodb"), settings().applicants_table)
    return PartnerService(vouchers, ProfileBuyerNames(applicants(), vault()), SystemClock())
