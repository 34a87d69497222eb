"""Payout accounts, incentive entitlements and transfers.

- ``PayoutAccountService``: an applicant links a bank account or e-wallet; the partner checks
  it (exists, active, KYC'd under the same NIK and name, e-wallet upgraded) before money moves.
- ``IncentiveService``: the scheme's incentives become payouts: the job-search incentive once
  the first course is completed with a certificate, reviewed and a valid account is linked;
  a survey incentive per answered survey. Each is posted as an entitlement in the ledger.
- ``TransferService``: the payout workflow's steps. A transfer id is ``<payout id>-<attempt>``
  and is the partner's idempotency key: every retry of a step sends the same id, so a partner
  pays it once; only a failure the partner confirmed starts a new attempt.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Protocol

from prakerja.clock import Clock
from prakerja.errors import Conflict, Forbidden, NotFound, ValidationFailed
from prakerja.errors import FieldError as ErrorField
from prakerja.ledger import postings
from prakerja.marketplace.models import PurchaseRecord, PurchaseStatus
from prakerja.payouts.models import (
    PROVIDER_TYPES,
    TRANSIENT_FAILURES,
    AccountStatus,
    FailureCode,
    IncentiveKind,
    PayoutAccount,
    PayoutAccountRequest,
    PayoutRecord,
    PayoutStatus,
    SurveyResponseRequest,
    TransferAnswer,
    TransferState,
    failure_code,
    payout_id,
)
from prakerja.payouts.ports import (
    PartnerUnavailable,
    PaymentPartners,
    PayoutAccounts,
    Payouts,
    PayoutTally,
    TaskCallbacks,
    TransferPending,
    TransferRateLimit,
    TransferRequest,
)
from prakerja.personal_data import mask_account_number
from prakerja.program import Program
from prakerja.registration.models import ApplicantStatus
from prakerja.registration.ports import ApplicantRepository, PersonalDataCipher
from prakerja.registration.records import ApplicantRecord
from prakerja.registration.service import PersonalDataVault, ProfileNotFound

TRANCHE_INTERVAL = timedelta(days=30)  # the 2020-2022 scheme paid its job-search incentive monthly
RETRY_TRANSIENT_AFTER = timedelta(minutes=10)  # a partner outage: the next run after this retries
RECHECK_PROCESSING_AFTER = timedelta(hours=1)  # no callback nor status by then: a later run asks again
_PURCHASE_PAGE = 200


class PurchaseHistory(Protocol):
    def list(
        self, applicant_id: str, limit: int, next_token: str | None
    ) -> tuple[list[PurchaseRecord], str | None]: ...


class AccountNumbers:
    """A payout account number, encrypted bound to its applicant (the personal data key)."""

    def __init__(self, cipher: PersonalDataCipher) -> None:
        self._cipher = cipher

    def seal(self, applicant_id: str, account_number: str) -> str:
        return self._cipher.encrypt(account_number.encode(), _context(applicant_id))

    def open(self, applicant_id: str, ciphertext: str) -> str:
        return self._cipher.decrypt(ciphertext, _context(applicant_id)).decode()


def _context(applicant_id: str) -> dict[str, str]:
    return {"applicant_id": applicant_id, "purpose": "payout-account"}


def _recipient(applicants: ApplicantRepository, account_id: str) -> ApplicantRecord:
    applicant = applicants.find_by_account(account_id)
    if applicant is None:
        raise ProfileNotFound
    if applicant.status != ApplicantStatus.SELECTED or applicant.card is None:
        raise Forbidden("NOT_A_RECIPIENT", "Incentives are for selected participants holding a card.")
    return applicant


class SurveyNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("SURVEY_NOT_FOUND", "There is no such survey.")


class IncentiveService:
    def __init__(
        self,
        applicants: ApplicantRepository,
        purchases: PurchaseHistory,
        accounts: PayoutAccounts,
        payouts: Payouts,
        program: Program,
        clock: Clock,
    ) -> None:
        self._applicants = applicants
        self._purchases = purchases
        self._accounts = accounts
        self._payouts = payouts
        self._program = program
        self._clock = clock

    def payouts(self, account_id: str, limit: int, next_token: str | None) -> tuple[list[PayoutRecord], str | None]:
        applicant = self._applicants.find_by_account(account_id)
        if applicant is None:
            raise ProfileNotFound
        return self._payouts.page(applicant.applicant_id, limit, next_token)

    def settle_for_account(self, account_id: str) -> list[PayoutRecord]:
        applicant = self._applicants.find_by_account(account_id)
        return self.settle_entitlements(applicant) if applicant else []

    def settle_entitlements(self, applicant: ApplicantRecord) -> list[PayoutRecord]:
        """After a review or a valid account: grants the job-search incentive when everything it
        needs is there, and makes payouts waiting for a valid account collectable again.
        Safe to call any number of times."""
        account = self._accounts.account(applicant.applicant_id)
        if account is None or account.status != AccountStatus.VALID:
            return []
        granted = self._grant_job_search(applicant)
        self._release(applicant.applicant_id)
        return granted

    def _grant_job_search(self, applicant: ApplicantRecord) -> list[PayoutRecord]:
        card = applicant.card
        if applicant.status != ApplicantStatus.SELECTED or card is None:
            return []
        if not any(p.certificate_id and p.review for p in self._completed(applicant.applicant_id)):
            return []
        incentive = self._program.schemes[card.scheme].job_search_incentive
        now = self._clock.now()
        records = [
            self._payout(applicant.applicant_id, IncentiveKind.JOB_SEARCH, tranche, incentive.amount, now)
            for tranche in range(1, incentive.tranches + 1)
        ]
        records = [r.with_changes(due_at=now + TRANCHE_INTERVAL * (r.tranche - 1)) for r in records]
        entitlements = [postings.entitlement(r.payout_id, r.applicant_id, r.amount, now) for r in records]
        return records if records and self._payouts.grant(records, entitlements, payable=True) else []

    def _release(self, applicant_id: str) -> None:
        for payout in self._payouts.all_of(applicant_id):
            if payout.status == PayoutStatus.SCHEDULED and not payout.queued:
                self._payouts.release(payout, payout.attempt, self._clock.now())
            elif payout.status == PayoutStatus.FAILED and payout.failure_code not in TRANSIENT_FAILURES:
                self._payouts.release(payout, payout.attempt + 1, self._clock.now())

    def answer_survey(self, account_id: str, survey_id: str, request: SurveyResponseRequest) -> PayoutRecord | None:
        applicant = _recipient(self._applicants, account_id)
        assert applicant.card is not None  # a recipient holds a card
        numbers = [s.survey_id for s in self._program.surveys]
        if survey_id not in numbers:
            raise SurveyNotFound
        if not self._completed(applicant.applicant_id):
            raise Conflict("TRAINING_NOT_COMPLETED", "The surveys follow a completed course.")
        tranche = numbers.index(survey_id) + 1
        incentive = self._program.schemes[applicant.card.scheme].survey_incentive
        now = self._clock.now()
        payout = None
        if tranche <= incentive.tranches:  # the scheme pays this survey
            payout = self._payout(applicant.applicant_id, IncentiveKind.SURVEY, tranche, incentive.amount, now)
        account = self._accounts.account(applicant.applicant_id)
        payable = account is not None and account.status == AccountStatus.VALID
        answers = [a.model_dump() for a in request.answers]
        if not self._payouts.answer_survey(applicant.applicant_id, survey_id, answers, payout, payable, now):
            raise Conflict("SURVEY_ALREADY_ANSWERED", "This survey has been answered already.")
        return payout.with_changes(queued=payable) if payout else None

    def _payout(self, applicant_id: str, kind: IncentiveKind, tranche: int, amount: int, now: datetime) -> PayoutRecord:
        return PayoutRecord(
            payout_id=payout_id(applicant_id, kind, tranche),
            applicant_id=applicant_id,
            kind=kind,
            tranche=tranche,
            amount=amount,
            status=PayoutStatus.SCHEDULED,
            created_at=now,
            due_at=now,
        )

    def _completed(self, applicant_id: str) -> list[PurchaseRecord]:
        return [p for p in _all_purchases(self._purchases, applicant_id) if p.status == PurchaseStatus.COMPLETED]


def _all_purchases(purchases: PurchaseHistory, applicant_id: str) -> Iterator[PurchaseRecord]:
    token: str | None = None
    while True:
        page, token = purchases.list(applicant_id, _PURCHASE_PAGE, token)
        yield from page
        if not token:
            return


class PayoutAccountService:
    def __init__(
        self,
        applicants: ApplicantRepository,
        vault: PersonalDataVault,
        numbers: AccountNumbers,
        accounts: PayoutAccounts,
        partners: PaymentPartners,
        incentives: IncentiveService,
        clock: Clock,
    ) -> None:
        self._applicants = applicants
        self._vault = vault
        self._numbers = numbers
        self._accounts = accounts
        self._partners = partners
        self._incentives = incentives
        self._clock = clock

    def link(self, account_id: str, request: PayoutAccountRequest) -> PayoutAccount:
        """Stores the account PENDING and asks the partner at once; a partner that does not
        answer leaves it PENDING (asked again when the account is read)."""
        applicant = _recipient(self._applicants, account_id)
        if PROVIDER_TYPES[request.provider] != request.type:
            raise ValidationFailed(
                "PROVIDER_TYPE_MISMATCH",
                f"{request.provider} is a {PROVIDER_TYPES[request.provider]} provider.",
                [ErrorField("type", f"{request.provider} accounts are {PROVIDER_TYPES[request.provider]}", "INVALID")],
            )
        current = self._accounts.account(applicant.applicant_id)
        account = PayoutAccount(
            type=request.type,
            provider=request.provider,
            account_cipher=self._numbers.seal(applicant.applicant_id, request.account_number),
            account_masked=mask_account_number(request.account_number),
            status=AccountStatus.PENDING,
            version=(current.version if current else 0) + 1,
            linked_at=self._clock.now(),
        )
        if not self._accounts.link(applicant.applicant_id, account):
            raise Conflict("PAYOUT_ACCOUNT_CHANGED", "The account was changed at the same time; try again.")
        return self._check(applicant, account, request.account_number)

    def account(self, account_id: str) -> PayoutAccount:
        """The linked account; a PENDING one is checked with the partner again first."""
        applicant = self._applicants.find_by_account(account_id)
        if applicant is None:
            raise ProfileNotFound
        account = self._accounts.account(applicant.applicant_id)
        if account is None:
            raise NotFound("PAYOUT_ACCOUNT_NOT_FOUND", "No payout account is linked yet.")
        if account.status == AccountStatus.PENDING:
            number = self._numbers.open(applicant.applicant_id, account.account_cipher)
            return self._check(applicant, account, number)
        return account

    def _check(self, applicant: ApplicantRecord, account: PayoutAccount, number: str) -> PayoutAccount:
        personal = self._vault.open(applicant)
        try:
            check = self._partners.check_account(
                account.provider, account.type, number, personal.nik, personal.full_name
            )
        except PartnerUnavailable:
            return account
        now = self._clock.now()
        if not self._accounts.record_check(applicant.applicant_id, account.version, check, now):
            return self._accounts.account(applicant.applicant_id) or account  # replaced meanwhile
        checked = account.with_changes(status=check.status, reason=check.reason, validated_at=now)
        if check.status == AccountStatus.VALID:
            self._incentives.settle_entitlements(applicant)
        return checked


def outcome(payout: PayoutRecord) -> dict[str, object]:
    """What a payout's workflow branch ends with (ids and codes only: no personal data)."""
    return {
        "payout_id": payout.payout_id,
        "transfer_id": payout.transfer_id,
        "status": str(payout.status),
        "failure_code": str(payout.failure_code) if payout.failure_code else None,
    }


class Settlements:
    """A transfer's outcome recorded once, whichever way it comes: the partner's callback, the
    partner's answer to a status query, or a repeated request answered with the final state."""

    def __init__(self, payouts: Payouts, callbacks: TaskCallbacks, clock: Clock, tally: PayoutTally) -> None:
        self._payouts = payouts
        self._callbacks = callbacks
        self._clock = clock
        self._tally = tally

    def confirm(self, provider: str, transfer_id: str, answer: TransferAnswer) -> PayoutRecord:
        """The partner's callback. Repeats change nothing and answer the same."""
        payout = self._payouts.by_transfer(transfer_id)
        if payout is None or payout.provider != provider:
            raise NotFound("TRANSFER_NOT_FOUND", "There is no such transfer for this partner.")
        if _open(payout) and payout.transfer_id == transfer_id:
            payout = self.finish(payout, answer)
        if payout.transfer_id != transfer_id:
            raise Conflict("TRANSFER_SUPERSEDED", "This transfer was settled and a newer one replaced it.")
        if _settled_as(payout) != answer.state:
            raise Conflict("TRANSFER_ALREADY_SETTLED", f"This transfer was settled as {payout.status} already.")
        if payout.task_token:
            self._callbacks.succeed(payout.task_token, outcome(payout))
        return payout

    def finish(self, payout: PayoutRecord, answer: TransferAnswer) -> PayoutRecord:
        """An open transfer -> PAID (money to PAID_OUT) or FAILED (money back to the incentive
        due). A transfer the partner cannot be reached about stays open: FAILED with
        PARTNER_UNAVAILABLE for the applicant to see, its money still with the partner, and a
        later run sends the very same transfer id again, so the partner can never pay it twice."""
        assert payout.provider is not None
        now = self._clock.now()
        if answer.state == TransferState.FAILED and failure_code(answer.failure_code) in TRANSIENT_FAILURES:
            held = payout.with_changes(
                status=PayoutStatus.FAILED,
                failure_code=FailureCode.PARTNER_UNAVAILABLE,
                failed_at=now,
                queued=True,
                due_at=now + RETRY_TRANSIENT_AFTER,
            )
            if self._payouts.replace(payout, held, None):
                self._tally.settled(held)
                return held
            return self.payout(payout.applicant_id, payout.payout_id)
        if answer.state == TransferState.SUCCESS:
            at = min(answer.settled_at or now, now)
            finished = payout.with_changes(
                status=PayoutStatus.PAID,
                paid_at=at,
                partner_reference=answer.reference,
                queued=False,
                failure_code=None,
                failed_at=None,
            )
            posting = postings.payout_paid(payout.transfer_id, payout.provider, payout.amount, at)
        else:  # the account's fault: the payout waits for its owner to link another account
            finished = payout.with_changes(
                status=PayoutStatus.FAILED,
                failure_code=failure_code(answer.failure_code),
                failed_at=now,
                partner_reference=answer.reference,
                queued=False,
            )
            posting = postings.payout_returned(
                payout.transfer_id, payout.applicant_id, payout.provider, payout.amount, now
            )
        if self._payouts.replace(payout, finished, posting):
            self._tally.settled(finished)
            return finished
        return self.payout(payout.applicant_id, payout.payout_id)  # settled by another path first

    def resume(self, task_token: str, payout: PayoutRecord) -> dict[str, object]:
        result = outcome(payout)
        self._callbacks.succeed(task_token, result)
        return result

    def payout(self, applicant_id: str, payout_id: str) -> PayoutRecord:
        payout = self._payouts.get(applicant_id, payout_id)
        if payout is None:
            raise NotFound("PAYOUT_NOT_FOUND", "There is no such payout.")
        return payout


class TransferService:
    """The payout workflow's steps: send a transfer, and ask about it when no callback came."""

    def __init__(
        self,
        accounts: PayoutAccounts,
        payouts: Payouts,
        numbers: AccountNumbers,
        partners: PaymentPartners,
        settlements: Settlements,
        rate_limit: TransferRateLimit,
        clock: Clock,
        tally: PayoutTally,
    ) -> None:
        self._accounts = accounts
        self._payouts = payouts
        self._numbers = numbers
        self._partners = partners
        self._settlements = settlements
        self._rate_limit = rate_limit
        self._clock = clock
        self._tally = tally

    def due(self, limit: int) -> list[tuple[str, str]]:
        return self._payouts.due(self._clock.now(), limit)

    def send(self, applicant_id: str, payout_id: str, task_token: str) -> dict[str, object] | None:
        """The transfer requested from the partner. None: requested, the workflow waits for
        the partner's callback. Otherwise the payout's outcome, already sent to the workflow.
        Raises PartnerUnavailable or RateLimited for the workflow to retry (same transfer id)."""
        settlements = self._settlements
        payout = settlements.payout(applicant_id, payout_id)
        if (
            payout.status == PayoutStatus.PAID
            or (payout.status == PayoutStatus.FAILED and payout.failure_code not in TRANSIENT_FAILURES)
            # Held by ops (HOLD_PAYOUTS): skipped, still SCHEDULED and due, so the first run after
            # the release collects it. begin_transfer checks the hold again in its transaction,
            # for a hold written after this read. A transfer already begun is not held back.
            or (payout.status == PayoutStatus.SCHEDULED and self._payouts.held(applicant_id))
        ):
            return settlements.resume(task_token, payout)  # settled meanwhile, or held: nothing to send
        if payout.status == PayoutStatus.SCHEDULED:
            account = self._accounts.account(applicant_id)
            if account is None or account.status != AccountStatus.VALID:
                parked = payout.with_changes(
                    status=PayoutStatus.FAILED,
                    failure_code=FailureCode.ACCOUNT_NOT_VALID,
                    failed_at=self._clock.now(),
                    queued=False,
                )
                if self._payouts.replace(payout, parked, None):
                    self._tally.settled(parked)
                return settlements.resume(task_token, settlements.payout(applicant_id, payout_id))
            self._rate_limit.acquire(account.provider)
            payout = self._begin(payout, account, task_token)
            if payout.status != PayoutStatus.PROCESSING:
                return settlements.resume(task_token, payout)
        else:  # an open transfer (processing, or the partner unreachable last time): the same id again
            assert payout.provider is not None
            self._rate_limit.acquire(payout.provider)
            now = self._clock.now()
            reopened = payout.with_changes(
                status=PayoutStatus.PROCESSING,
                task_token=task_token,
                failure_code=None,
                failed_at=None,
                queued=True,
                due_at=now + RECHECK_PROCESSING_AFTER,
            )
            if not self._payouts.replace(payout, reopened, None):
                return settlements.resume(task_token, settlements.payout(applicant_id, payout_id))
            # Still with the partner when its recheck fell due (RECHECK_PROCESSING_AFTER after it was
            # sent): neither a callback nor a status query settled it, and a later run is here.
            # A retry within the run comes before that time and is not counted.
            if payout.status == PayoutStatus.PROCESSING and payout.due_at <= now:
                self._tally.stuck(payout)
            payout = reopened
        assert payout.provider is not None and payout.account_cipher is not None
        request = TransferRequest(
            transfer_id=payout.transfer_id,
            provider=payout.provider,
            account_number=self._numbers.open(applicant_id, payout.account_cipher),
            amount=payout.amount,
        )
        answer = self._partners.transfer(request)
        if answer.state == TransferState.PENDING:
            return None
        return settlements.resume(task_token, settlements.finish(payout, answer))

    def check(self, applicant_id: str, payout_id: str) -> dict[str, object]:
        """No callback came in time: the partner is asked. Raises TransferPending while the
        partner is still working on it, PartnerUnavailable when it does not answer."""
        payout = self._settlements.payout(applicant_id, payout_id)
        if payout.status != PayoutStatus.PROCESSING:
            return outcome(payout)  # settled by a callback meanwhile
        assert payout.provider is not None
        answer = self._partners.status(payout.provider, payout.transfer_id)
        if answer is None:  # not there (yet: a request may still be on its way): held, sent again later
            answer = TransferAnswer(TransferState.FAILED, failure_code=FailureCode.PARTNER_UNAVAILABLE)
        if answer.state == TransferState.PENDING:
            raise TransferPending(payout.transfer_id)
        return outcome(self._settlements.finish(payout, answer))

    def _begin(self, payout: PayoutRecord, account: PayoutAccount, task_token: str) -> PayoutRecord:
        now = self._clock.now()
        started = payout.with_changes(
            status=PayoutStatus.PROCESSING,
            provider=account.provider,
            account_cipher=account.account_cipher,
            task_token=task_token,
            processing_at=now,
            due_at=now + RECHECK_PROCESSING_AFTER,
            failure_code=None,
            failed_at=None,
            queued=True,
        )
        posting = postings.payout_sent(started.transfer_id, payout.applicant_id, account.provider, payout.amount, now)
        if self._payouts.begin_transfer(payout, started, posting):
            return started
        return self._settlements.payout(payout.applicant_id, payout.payout_id)  # another run took it


def _open(payout: PayoutRecord) -> bool:
    """A transfer the partner may still pay: processing, or unconfirmed for a partner outage."""
    return payout.status == PayoutStatus.PROCESSING or (
        payout.status == PayoutStatus.FAILED and payout.failure_code in TRANSIENT_FAILURES
    )


def _settled_as(payout: PayoutRecord) -> TransferState | None:
    return {PayoutStatus.PAID: TransferState.SUCCESS, PayoutStatus.FAILED: TransferState.FAILED}.get(payout.status)
