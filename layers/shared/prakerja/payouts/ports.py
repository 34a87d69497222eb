"""What the payout logic needs from the outside: its records, the payment partners, the
workflow's callbacks, a rate limit and a tally of outcomes. DynamoDB, HTTP, Step Functions and
CloudWatch metrics implement them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from prakerja.ledger.postings import Posting
from prakerja.payouts.models import (
    AccountStatus,
    AccountType,
    PayoutAccount,
    PayoutRecord,
    Provider,
    TransferAnswer,
)


class PartnerUnavailable(Exception):
    """The partner did not answer, or answered 5xx: the outcome is unknown, try again with
    the same transfer id. Its name is the error the payout workflow retries on."""


class RateLimited(Exception):
    """This second's share of the partner's rate limit is used up."""


class TransferPending(Exception):
    """The partner has the transfer and has not finished it: ask again later."""


@dataclass(frozen=True)
class AccountCheck:
    status: AccountStatus  # VALID or INVALID
    reason: str | None = None


@dataclass(frozen=True)
class TransferRequest:
    transfer_id: str
    provider: Provider
    account_number: str
    amount: int


class PaymentPartners(Protocol):
    def check_account(
        self, provider: Provider, account_type: AccountType, account_number: str, nik: str, full_name: str
    ) -> AccountCheck:
        """Raises PartnerUnavailable when the partner does not answer."""
        ...

    def transfer(self, request: TransferRequest) -> TransferAnswer:
        """Idempotent on the transfer id. Raises PartnerUnavailable."""
        ...

    def status(self, provider: Provider, transfer_id: str) -> TransferAnswer | None:
        """None when the partner never received the transfer. Raises PartnerUnavailable."""
        ...


class PayoutAccounts(Protocol):
    def account(self, applicant_id: str) -> PayoutAccount | None: ...

    def link(self, applicant_id: str, account: PayoutAccount) -> bool:
        """Stores ``account`` (version n) if the stored one is version n - 1 (or none)."""
        ...

    def record_check(self, applicant_id: str, version: int, check: AccountCheck, at: datetime) -> bool:
        """The validation of account ``version``; False if another account replaced it."""
        ...


class Payouts(Protocol):
    def get(self, applicant_id: str, payout_id: str) -> PayoutRecord | None: ...

    def page(self, applicant_id: str, limit: int, next_token: str | None) -> tuple[list[PayoutRecord], str | None]:
        """An applicant's payouts, a page at a time."""
        ...

    def all_of(self, applicant_id: str) -> list[PayoutRecord]: ...

    def grant(self, payouts: Sequence[PayoutRecord], postings: Sequence[Posting], payable: bool) -> bool:
        """Creates the payouts with their entitlement postings, all or none; False if they
        exist already. ``payable``: due for collection (a valid account is linked)."""
        ...

    def release(self, payout: PayoutRecord, attempt: int, at: datetime) -> bool:
        """A SCHEDULED payout made collectable, or a FAILED one scheduled again with a new
        attempt (a new transfer id), once a valid account is linked."""
        ...

    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(applicant_id, payout_id) of the payouts to work on now."""
        ...

    def held(self, applicant_id: str) -> bool:
        """Whether ops hold the applicant's payouts (HOLD_PAYOUTS, until RELEASE_PAYOUTS)."""
        ...

    def begin_transfer(self, payout: PayoutRecord, started: PayoutRecord, sent: Posting) -> bool:
        """``payout`` (SCHEDULED) becomes ``started``
        (PROCESSING) with the transfer's SENT posting and its id claimed, all or nothing;
        False if the payout changed meanwhile or its applicant's payouts are held."""
        ...

    def replace(self, current: PayoutRecord, new: PayoutRecord, posting: Posting | None) -> bool:
        """``current`` becomes ``new`` with ``posting`` (PAID, RETURNED) in one transaction, if
        the payout is still as ``current`` was read (status and attempt); False otherwise."""
        ...

    def answer_survey(
        self,
        applicant_id: str,
        survey_id: str,
        answers: list[dict[str, str]],
        payout: PayoutRecord | None,
        payable: bool,
        at: datetime,
    ) -> bool:
        """The response, with its incentive and entitlement posting; False if answered before."""
        ...

    def by_transfer(self, transfer_id: str) -> PayoutRecord | None: ...


class TaskCallbacks(Protocol):
    def succeed(self, task_token: str, output: dict[str, object]) -> None:
        """Resumes the waiting workflow step; a token that is no longer waited on is ignored."""
        ...


class TransferRateLimit(Protocol):
    def acquire(self, provider: Provider) -> None:
        """Raises RateLimited when this second's requests to the partner are used up."""
        ...


class PayoutTally(Protocol):
    """The program's numbers of payouts (CloudWatch metrics on AWS). Each is told by the one call
    whose conditional write recorded it, so a callback racing a status query counts once."""

    def settled(self, payout: PayoutRecord) -> None:
        """``payout`` was just recorded PAID, or FAILED with its failure code."""
        ...

    def stuck(self, payout: PayoutRecord) -> None:
        """A later run came back to ``payout``'s transfer and found it still unconfirmed."""
        ...
