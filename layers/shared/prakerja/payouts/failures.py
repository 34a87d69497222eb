"""What ops see of the payouts that failed: each one with its code, and the counts per code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from prakerja.clock import iso
from prakerja.payouts.models import FailureCode, IncentiveKind, Provider


@dataclass(frozen=True)
class FailedPayout:
    payout_id: str
    applicant_id: str
    kind: IncentiveKind
    tranche: int
    amount: int
    failure_code: FailureCode
    failed_at: datetime
    attempt: int
    provider: Provider | None = None  # None: it failed before any transfer (no valid account)


class FailedPayouts(Protocol):
    def page(
        self, codes: Sequence[FailureCode], limit: int, next_token: str | None
    ) -> tuple[list[FailedPayout], str | None]:
        """FAILED payouts with one of ``codes``, code by code in that order, the newest
        failure first within a code; a page at a time."""
        ...

    def count(self, code: FailureCode) -> int:
        """How many payouts are FAILED with ``code`` now."""
        ...


class FailedPayoutView(BaseModel):
    payout_id: str
    applicant_id: str
    kind: IncentiveKind
    tranche: int
    amount: int = Field(description="Whole Rupiah")
    failure_code: FailureCode
    failed_at: str
    attempt: int = Field(description="Transfers tried so far; the last one's id is <payout_id>-<attempt>")
    provider: Provider | None = None

    @classmethod
    def of(cls, failed: FailedPayout) -> FailedPayoutView:
        return cls(
            payout_id=failed.payout_id,
            applicant_id=failed.applicant_id,
            kind=failed.kind,
            tranche=failed.tranche,
            amount=failed.amount,
            failure_code=failed.failure_code,
            failed_at=iso(failed.failed_at),
            attempt=failed.attempt,
            provider=failed.provider,
        )


class FailedPayoutList(BaseModel):
    """``GET /v1/ops/payouts?status=FAILED``."""

    items: list[FailedPayoutView]
    next_token: str | None = None


class FailureCounts(BaseModel):
    """``GET /v1/ops/payouts/failure-counts``: codes with at least one FAILED payout."""

    total: int
    by_code: dict[FailureCode, int]


class PayoutFailures:
    def __init__(self, failed: FailedPayouts) -> None:
        self._failed = failed

    def page(self, code: FailureCode | None, limit: int, next_token: str | None) -> FailedPayoutList:
        codes = [code] if code else list(FailureCode)
        failed, token = self._failed.page(codes, limit, next_token)
        return FailedPayoutList(items=[FailedPayoutView.of(f) for f in failed], next_token=token)

    def counts(self) -> FailureCounts:
        counted = {code: self._failed.count(code) for code in FailureCode}
        by_code = {code: n for code, n in counted.items() if n}
        return FailureCounts(total=sum(by_code.values()), by_code=by_code)
