"""Function configuration, parsed from the environment and validated at cold start.

Each function reads only the settings it needs; a missing or malformed variable fails the
cold start with a clear message instead of a half-working function.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, field_validator

S = TypeVar("S", bound=BaseModel)


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


# A browser origin as browsers send it: scheme, lower-case host, optional port, no path; plain
# http only for a developer's machine. The stages' web_origins (infra) are held to it too.
ORIGIN_PATTERN = r"^(https://[a-z0-9.-]+(:[0-9]+)?|http://(localhost|127\.0\.0\.1)(:[0-9]+)?)$"
# What a web app may read of an answer besides the CORS-safelisted headers (API.md): Retry-After
# on a 429 or 503, the request id to quote to the helpdesk. The functions (prakerja.http.app),
# the preflights and API Gateway's own answers (infra: constructs/api.py) expose these.
CORS_EXPOSED_HEADERS = ("Retry-After", "x-amzn-RequestId")


class CorsSettings(_Settings):
    """The browser origins allowed to call the function's routes (prakerja.http.app), from
    CORS_ALLOWED_ORIGINS, comma-separated. Unset: no CORS headers at all. Never `*` or `null`."""

    cors_allowed_origins: tuple[Annotated[str, StringConstraints(pattern=ORIGIN_PATTERN)], ...] = ()

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(origin.strip() for origin in value.split(",") if origin.strip())
        return value


# The variable infra sets on the browser-facing API functions (the field above, upper-case).
CORS_ORIGINS_VARIABLE = "CORS_ALLOWED_ORIGINS"


class PersonalDataSettings(_Settings):
    personal_data_key_arn: str = Field(min_length=1)


class MarketplaceSettings(_Settings):
    catalog_table: str = Field(min_length=1)
    ledger_table: str = Field(min_length=1)


class PartnerSecretSettings(_Settings):
    # Each partner's shared secret is the Secrets Manager secret "<prefix><partner_id>".
    partner_secret_name_prefix: str = Field(pattern=r"^[A-Za-z0-9/_+=.@-]+/$")
    partner_secret_max_age_seconds: int = Field(default=300, ge=0)


class PaymentPartnerSettings(PartnerSecretSettings):
    """Calls to the payment partners: each at ``<payment_partners_url>/<provider>``."""

    payment_partners_url: HttpUrl
    payment_partner_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    payouts_table: str = Field(min_length=1)


class AttemptLimitSettings(_Settings):
    attempts_table: str = Field(min_length=1)  # attempt counters (prakerja.limits)


class AuditSettings(_Settings):
    audit_table: str = Field(min_length=1)  # the audit log of ops calls (prakerja.audit)


class CasesSettings(_Settings):
    cases_table: str = Field(min_length=1)  # complaint tickets (prakerja.grievances), ops actions (prakerja.cases)


class ApplicantApiSettings(
    PersonalDataSettings, MarketplaceSettings, PaymentPartnerSettings, AttemptLimitSettings, CasesSettings, CorsSettings
):
    hashing_secret_arn: str = Field(min_length=1)
    applicants_table: str = Field(min_length=1)
    waves_table: str = Field(min_length=1)
    idempotency_table: str = Field(min_length=1)
    registration_state_machine_arn: str = Field(min_length=1)


class OpsApiSettings(MarketplaceSettings, AuditSettings, CasesSettings, PersonalDataSettings, CorsSettings):
    outbox_table: str = Field(min_length=1)  # a ticket answered, a card revoked: the applicant's notice
    exclusions_table: str = Field(min_length=1)
    waves_table: str = Field(min_length=1)
    hashing_secret_arn: str = Field(min_length=1)
    selection_state_machine_arn: str = Field(min_length=1)
    payout_state_machine_arn: str = Field(min_length=1)
    reconciliation_state_machine_arn: str = Field(min_length=1)
    payouts_bucket: str = Field(min_length=1)  # reconciliation results
    payouts_table: str = Field(min_length=1)  # the failed payouts' index; payout holds; a case's payouts
    applicants_table: str = Field(min_length=1)  # the case view; actions: a profile read, a card revoked
    registration_state_machine_arn: str = Field(min_length=1)  # REVERIFY: the checks run again


class PartnerApiSettings(PersonalDataSettings, PartnerSecretSettings, AttemptLimitSettings):
    applicants_table: str = Field(min_length=1)  # purchases and vouchers; the buyer's name, masked
    payouts_table: str = Field(min_length=1)  # payment callbacks
    ledger_table: str = Field(min_length=1)


class PayoutWorkflowSettings(PersonalDataSettings, PaymentPartnerSettings):
    """The payout workflow's steps."""

    ledger_table: str = Field(min_length=1)
    payouts_bucket: str = Field(min_length=1)  # each run's list of payouts
    # How long a transfer waits for the partner's callback before the partner is asked.
    payout_callback_timeout_seconds: int = Field(default=900, ge=1, le=86400)
    payout_run_limit: int = Field(default=1_000_000, ge=1)


class ReconciliationSettings(_Settings):
    ledger_table: str = Field(min_length=1)
    payouts_bucket: str = Field(min_length=1)  # settlement reports in, reconciliation reports out


class CardDeadlineSettings(_Settings):
    """The card deadlines workflow's steps."""

    waves_table: str = Field(min_length=1)


class RevokeCardsSettings(CardDeadlineSettings):
    applicants_table: str = Field(min_length=1)
    exclusions_table: str = Field(min_length=1)  # the blacklist
    outbox_table: str = Field(min_length=1)
    ledger_table: str = Field(min_length=1)


class ComplaintMetricsSettings(CasesSettings):
    """The overdue complaints' count (functions/complaint_metrics)."""


class PublicApiSettings(CorsSettings):
    waves_table: str = Field(min_length=1)
    selection_bucket: str = Field(min_length=1)


class NotifierSettings(PersonalDataSettings):
    applicants_table: str = Field(min_length=1)  # the phone, decrypted at send time
    outbox_table: str = Field(min_length=1)
    sms_sender_id: str = Field(default="PRAKERJA", pattern=r"^[A-Za-z0-9]{1,11}$")


class SelectionSettings(_Settings):
    """The selection workflow's plan, merge and publish steps."""

    waves_table: str = Field(min_length=1)
    selection_bucket: str = Field(min_length=1)


class SnapshotShardSettings(SelectionSettings):
    exclusions_table: str = Field(min_length=1)  # re-screening at close


class ApplyShardSettings(SelectionSettings):
    applicants_table: str = Field(min_length=1)  # outcomes and cards
    outbox_table: str = Field(min_length=1)  # the notification of each outcome
    ledger_table: str = Field(min_length=1)  # each card's funding


class VerifyIdentitySettings(PersonalDataSettings):
    applicants_table: str = Field(min_length=1)
    civil_registry_url: HttpUrl
    civil_registry_timeout_seconds: float = 5.0


class ScreenEligibilitySettings(PersonalDataSettings):
    applicants_table: str = Field(min_length=1)
    exclusions_table: str = Field(min_length=1)


def load_settings(model: type[S]) -> S:
    """Environment variables are the upper-case field names (APPLICANTS_TABLE, ...)."""
    values = {name: os.environ[name.upper()] for name in model.model_fields if name.upper() in os.environ}
    return model.model_validate(values)
