"""Payout accounts, incentives and transfers: the records and the API's shapes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from prakerja.clock import iso


class AccountType(StrEnum):
    BANK = "BANK"
    EWALLET = "EWALLET"


class Provider(StrEnum):
    """The payment partners (partners.json): a bank and four e-wallets."""

    BNI = "BNI"
    OVO = "OVO"
    GOPAY = "GOPAY"
    LINKAJA = "LINKAJA"
    DANA = "DANA"


class AccountStatus(StrEnum):
    PENDING = "PENDING"  # the partner has not answered yet
    VALID = "VALID"  # exists, active, KYC'd under the applicant's NIK and name
    INVALID = "INVALID"  # with a reason; the applicant links another account


class IncentiveKind(StrEnum):
    JOB_SEARCH = "JOB_SEARCH"
    SURVEY = "SURVEY"


class PayoutStatus(StrEnum):
    SCHEDULED = "SCHEDULED"  # entitled; paid once due and the account is valid
    PROCESSING = "PROCESSING"  # a transfer is with the payment partner
    PAID = "PAID"  # the partner confirmed the money in the account
    FAILED = "FAILED"  # with failure_code; retried after the account is fixed, or on a later run


class FailureCode(StrEnum):
    # The account's fault: the payout waits until the applicant links a valid account.
    ACCOUNT_NOT_FOUND = "ACCOUNT_NOT_FOUND"
    NAME_MISMATCH = "NAME_MISMATCH"
    ACCOUNT_INACTIVE = "ACCOUNT_INACTIVE"
    ACCOUNT_BLOCKED = "ACCOUNT_BLOCKED"
    WALLET_NOT_UPGRADED = "WALLET_NOT_UPGRADED"
    WALLET_LIMIT_EXCEEDED = "WALLET_LIMIT_EXCEEDED"
    ACCOUNT_NOT_VALID = "ACCOUNT_NOT_VALID"  # no valid account linked when the payout was due
    # The partner's: a later payout run tries again by itself.
    PARTNER_UNAVAILABLE = "PARTNER_UNAVAILABLE"
    PARTNER_REJECTED = "PARTNER_REJECTED"  # a code this program does not know


# Failures a later run retries without the applicant doing anything.
TRANSIENT_FAILURES = frozenset({FailureCode.PARTNER_UNAVAILABLE})


def failure_code(partner_code: str | None) -> FailureCode:
    """A partner's failure code in the program's terms (an unknown one stays visible as
    PARTNER_REJECTED and waits for the account to be fixed, the safe side)."""
    try:
        return FailureCode(partner_code or "")
    except ValueError:
        return FailureCode.PARTNER_REJECTED


# -- the payout account ------------------------------------------------------------------------
AccountNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{6,20}$")]

PROVIDER_TYPES = {
    Provider.BNI: AccountType.BANK,
    Provider.OVO: AccountType.EWALLET,
    Provider.GOPAY: AccountType.EWALLET,
    Provider.LINKAJA: AccountType.EWALLET,
    Provider.DANA: AccountType.EWALLET,
}


class PayoutAccountRequest(BaseModel):
    """`PUT /v1/applicants/me/payout-account`."""

    model_config = ConfigDict(extra="forbid")

    type: AccountType
    provider: Provider
    account_number: AccountNumber = Field(
        description="Bank account number, or the e-wallet's phone number in digits (08...)"
    )


@dataclass(frozen=True)
class PayoutAccount:
    """An applicant's linked account. The number is kept encrypted; ``version`` counts the
    accounts linked, so a late validation answer for a replaced account changes nothing."""

    type: AccountType
    provider: Provider
    account_cipher: str
    account_masked: str
    status: AccountStatus
    version: int
    linked_at: datetime
    reason: str | None = None
    validated_at: datetime | None = None

    def with_changes(self, **changes: object) -> PayoutAccount:
        return replace(self, **changes)  # type: ignore[arg-type]


class PayoutAccountView(BaseModel):
    type: AccountType
    provider: Provider
    account_number: str = Field(description="Masked: only the last 4 digits show")
    status: AccountStatus
    reason: str | None = Field(default=None, description="Why the partner refused the account (INVALID)")
    linked_at: str
    validated_at: str | None = None

    @classmethod
    def of(cls, account: PayoutAccount) -> PayoutAccountView:
        return cls(
            type=account.type,
            provider=account.provider,
            account_number=account.account_masked,
            status=account.status,
            reason=account.reason,
            linked_at=iso(account.linked_at),
            validated_at=iso(account.validated_at) if account.validated_at else None,
        )


# -- incentives ----------------------------------------------------------------------------------
def payout_id(applicant_id: str, kind: IncentiveKind, tranche: int) -> str:
    """Derived from what it pays, so granting the same incentive twice names the same payout."""
    digest = hashlib.sha256(f"{applicant_id}#{kind}#{tranche}".encode()).hexdigest()
    return f"po-{digest[:24]}"


PAYOUT_ID = r"^po-[0-9a-f]{24}$"
TRANSFER_ID = r"^po-[0-9a-f]{24}-[0-9]{1,4}$"


@dataclass(frozen=True)
class PayoutRecord:
    payout_id: str
    applicant_id: str
    kind: IncentiveKind
    tranche: int  # 1..n in the scheme (a survey's number for survey incentives)
    amount: int
    status: PayoutStatus
    created_at: datetime
    due_at: datetime
    attempt: int = 1  # each transfer of this payout is "<payout_id>-<attempt>"
    provider: Provider | None = None
    failure_code: FailureCode | None = None
    partner_reference: str | None = None
    processing_at: datetime | None = None
    paid_at: datetime | None = None
    failed_at: datetime | None = None
    task_token: str | None = None  # the payout workflow's callback waiting for the partner
    account_cipher: str | None = None  # the account a transfer went to, as it was then (encrypted)
    queued: bool = False  # collected by payout runs once due_at has come

    @property
    def transfer_id(self) -> str:
        return f"{self.payout_id}-{self.attempt}"

    def with_changes(self, **changes: object) -> PayoutRecord:
        return replace(self, **changes)  # type: ignore[arg-type]


class PayoutView(BaseModel):
    payout_id: str
    kind: IncentiveKind
    tranche: int
    amount: int = Field(description="Whole Rupiah")
    status: PayoutStatus
    failure_code: FailureCode | None = None
    provider: Provider | None = None
    created_at: str
    due_at: str
    processing_at: str | None = None
    paid_at: str | None = None
    failed_at: str | None = None

    @classmethod
    def of(cls, p: PayoutRecord) -> PayoutView:
        def opt(moment: datetime | None) -> str | None:
            return iso(moment) if moment else None

        return cls(
            payout_id=p.payout_id,
            kind=p.kind,
            tranche=p.tranche,
            amount=p.amount,
            status=p.status,
            failure_code=p.failure_code,
            provider=p.provider,
            created_at=iso(p.created_at),
            due_at=iso(p.due_at),
            processing_at=opt(p.processing_at),
            paid_at=opt(p.paid_at),
            failed_at=opt(p.failed_at),
        )


class PayoutList(BaseModel):
    items: list[PayoutView]
    next_token: str | None = None


# -- surveys -------------------------------------------------------------------------------------
class SurveyAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_id: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    answer: str = Field(min_length=1, max_length=500)


class SurveyResponseRequest(BaseModel):
    """`POST /v1/surveys/{survey_id}/responses`."""

    model_config = ConfigDict(extra="forbid")

    answers: list[SurveyAnswer] = Field(min_length=1, max_length=50)


class SurveyResponseCreated(BaseModel):
    survey_id: str
    incentive: PayoutView | None = Field(default=None, description="The survey incentive earned, if the scheme has one")


# -- transfers (the partner's answers) ----------------------------------------------------------
class TransferState(StrEnum):
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


@dataclass(frozen=True)
class TransferAnswer:
    state: TransferState
    reference: str | None = None
    failure_code: str | None = None
    settled_at: datetime | None = None


class PaymentCallback(BaseModel):
    """`POST /v1/partner/payments/{transfer_id}/callback`."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["SUCCESS", "FAILED"]
    reference: str = Field(min_length=1, max_length=80, description="The partner's own reference")
    failure_code: str | None = Field(default=None, pattern=r"^[A-Z0-9_]{2,40}$")
    settled_at: datetime | None = Field(default=None, description="When the money reached the account")


class CallbackAnswer(BaseModel):
    transfer_id: str
    status: PayoutStatus
    failure_code: FailureCode | None = None
