"""Wiring of the registration workflow's steps; each step function validates only its own
settings, at its first call (they run as separate Lambda functions)."""

from __future__ import annotations

from functools import cache

from prakerja.adapters import aws
from prakerja.adapters.civil_registry import HttpCivilRegistry
from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository
from prakerja.adapters.dynamodb_exclusions import DynamoDBExclusionRepository
from prakerja.adapters.kms_cipher import KmsCipher
from prakerja.clock import SystemClock
from prakerja.config import ScreenEligibilitySettings, VerifyIdentitySettings, load_settings
from prakerja.program import load_program
from prakerja.registration.service import EligibilityScreening, IdentityVerification, PersonalDataVault


@cache
def identity_verification() -> IdentityVerification:
    config = load_settings(VerifyIdentitySettings)
    return IdentityVerification(
        applicants=DynamoDBApplicantRepository(aws.dynamodb(), config.applicants_table),
        vault=PersonalDataVault(KmsCipher(aws.kms(), config.personal_data_key_arn)),
        clock=SystemClock(),
        registry=HttpCivilRegistry(str(config.civil_registry_url), config.civil_registry_timeout_seconds),
    )


@cache
def eligibility_screening() -> EligibilityScreening:
    config = load_settings(ScreenEligibilitySettings)
    dynamodb = aws.dynamodb()
    return EligibilityScreening(
        applicants=DynamoDBApplicantRepository(dynamodb, config.applicants_table),
        vault=PersonalDataVault(KmsCipher(aws.kms(), config.personal_data_key_arn)),
        clock=SystemClock(),
        exclusions=DynamoDBExclusionRepository(dynamodb, config.exclusions_table),
        rules=load_program().registration,
    )
