"""The marketplace's rules: who may buy what, vouchers, completions and reviews.

Money rules: a purchase debits the card in the same transaction as its ledger posting, on the
condition that the card still holds exactly the balance it was read with. Concurrent purchases
on one card therefore serialize: one wins, the others read the new balance and try again, and
nothing ever overdraws a card (see ports.Purchases.buy).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from prakerja.clock import Clock
from prakerja.errors import Conflict, Forbidden, NotFound, ValidationFailed
from prakerja.ledger import postings
from prakerja.marketplace.models import (
    PurchaseRecord,
    PurchaseRequest,
    PurchaseStatus,
    Review,
    ReviewRequest,
    Training,
    TrainingFilters,
    TrainingRequest,
    is_purchase_id,
    is_training_id,
    new_purchase_id,
    new_training_id,
    new_voucher_code,
)
from prakerja.marketplace.ports import BuyOutcome, Catalog, Purchases, Vouchers
from prakerja.partners import Partner, PartnerDirectory, PartnerKind
from prakerja.personal_data import mask_name
from prakerja.registration.models import ApplicantStatus
from prakerja.registration.ports import ApplicantRepository
from prakerja.registration.records import ApplicantRecord
from prakerja.registration.service import PersonalDataVault, ProfileNotFound
from prakerja.selection.cards import CardRecord

BUY_ATTEMPTS = 12  # each lost race means another purchase on the same card went through
CLOCK_SKEW = timedelta(minutes=5)  # a partner's clock may run a little ahead of ours


class TrainingNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("TRAINING_NOT_FOUND", "There is no course with this id.")


class PurchaseNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("PURCHASE_NOT_FOUND", "You have no purchase with this id.")


class VoucherNotFound(NotFound):
    def __init__(self) -> None:
        # Also for another platform's voucher: a platform learns nothing about others' codes.
        super().__init__("VOUCHER_NOT_FOUND", "No voucher with this code was issued for your platform.")


class PurchaseContended(Conflict):
    def __init__(self) -> None:
        super().__init__("PURCHASE_CONTENDED", "The card was busy with other purchases; try again.")


class CatalogService:
    def __init__(self, catalog: Catalog, partners: PartnerDirectory, clock: Clock) -> None:
        self._catalog = catalog
        self._partners = partners
        self._clock = clock

    def add(self, request: TrainingRequest) -> Training:
        self._check_platform(request.platform)
        now = self._clock.now()
        training = Training.of(new_training_id(), request, created_at=now, now=now)
        self._catalog.add(training)
        return training

    def update(self, training_id: str, request: TrainingRequest) -> Training:
        self._check_platform(request.platform)
        current = self.get(training_id)
        # Reviews stay with the course; only what ops sent changes.
        updated = replace(
            Training.of(training_id, request, created_at=current.created_at, now=self._clock.now()),
            rating_sum=current.rating_sum,
            rating_count=current.rating_count,
        )
        if not self._catalog.replace(updated):
            raise TrainingNotFound
        return updated

    def get(self, training_id: str) -> Training:
        training = self._catalog.get(training_id) if is_training_id(training_id) else None
        if training is None:
            raise TrainingNotFound
        return training

    def search(self, filters: TrainingFilters, limit: int, next_token: str | None) -> tuple[list[Training], str | None]:
        return self._catalog.search(filters, limit, next_token)

    def _check_platform(self, platform: str) -> None:
        partner = self._partners.get(platform)
        if partner is None or partner.kind != PartnerKind.PLATFORM:
            raise ValidationFailed("PLATFORM_UNKNOWN", f"{platform} is not a training platform partner.")


@dataclass(frozen=True)
class Bought:
    purchase: PurchaseRecord
    training_balance: int


class MarketplaceService:
    def __init__(
        self,
        catalog: Catalog,
        purchases: Purchases,
        applicants: ApplicantRepository,
        clock: Clock,
        pause: float = 0.02,
    ) -> None:
        self._catalog = catalog
        self._purchases = purchases
        self._applicants = applicants
        self._clock = clock
        self._pause = pause

    def buy(self, account_id: str, request: PurchaseRequest) -> Bought:
        for attempt in range(BUY_ATTEMPTS):
            applicant = self._applicant(account_id)
            training = self._catalog.get(request.training_id)  # the request model checked the id
            if training is None:
                raise TrainingNotFound
            now = self._clock.now()
            card = _usable_card(applicant, training, now)
            purchase = PurchaseRecord(
                purchase_id=new_purchase_id(now),
                applicant_id=applicant.applicant_id,
                card_number=card.card_number,
                training_id=training.training_id,
                title=training.title,
                platform=training.platform,
                price=training.price,
                voucher_code=new_voucher_code(),
                status=PurchaseStatus.PAID,
                purchased_at=now,
                balance_after=card.training_balance - training.price,
            )
            posting = postings.purchase(purchase.purchase_id, card.card_number, training.platform, training.price, now)
            outcome = self._purchases.buy(purchase, card.training_balance, posting)
            if outcome is BuyOutcome.BOUGHT:
                return Bought(purchase, purchase.balance_after)
            if outcome is BuyOutcome.CARD_CHANGED:  # lost a race on this card: let the others pass
                time.sleep(self._pause * random.random() * (attempt + 1))  # noqa: S311 - jitter only
        raise PurchaseContended

    def purchases(self, account_id: str, limit: int, next_token: str | None) -> tuple[list[PurchaseRecord], str | None]:
        return self._purchases.list(self._applicant(account_id).applicant_id, limit, next_token)

    def review(self, account_id: str, purchase_id: str, request: ReviewRequest) -> PurchaseRecord:
        applicant = self._applicant(account_id)
        purchase = self._purchases.get(applicant.applicant_id, purchase_id) if is_purchase_id(purchase_id) else None
        if purchase is None:
            raise PurchaseNotFound
        _check_reviewable(purchase)
        review = Review(rating=request.rating, text=request.review, reviewed_at=self._clock.now())
        if not self._purchases.review(purchase, review):
            latest = self._purchases.get(applicant.applicant_id, purchase_id)
            _check_reviewable(latest or purchase)
            raise AssertionError("review refused for no reason")  # pragma: no cover
        return purchase.with_changes(review=review)

    def _applicant(self, account_id: str) -> ApplicantRecord:
        applicant = self._applicants.find_by_account(account_id)
        if applicant is None:
            raise ProfileNotFound
        return applicant


def _usable_card(applicant: ApplicantRecord, training: Training, now: datetime) -> CardRecord:
    card = applicant.card
    if applicant.status == ApplicantStatus.REVOKED:
        # By the nightly sweep (unused by its deadline) or by the programme office (REVOKE_CARD).
        raise Conflict("CARD_REVOKED", "Your card was revoked; the helpdesk can tell you why.")
    if applicant.status != ApplicantStatus.SELECTED or card is None:
        raise Forbidden("NOT_A_RECIPIENT", "Only selected participants with a card can buy training.")
    if card.past_deadline(now):
        raise Conflict(
            "PURCHASE_DEADLINE_PASSED", "The deadline for a first purchase has passed; the card is being revoked."
        )
    if card.training_balance < training.price:
        raise Conflict(
            "INSUFFICIENT_BALANCE",
            f"The course costs {training.price} and the card holds {card.training_balance}.",
        )
    return card


def _check_reviewable(purchase: PurchaseRecord) -> None:
    if purchase.status != PurchaseStatus.COMPLETED:
        raise Conflict("NOT_COMPLETED", "A course can be reviewed once the platform reports it completed.")
    if purchase.review is not None:
        raise Conflict("ALREADY_REVIEWED", "This purchase has a review already.")


class BuyerNames(Protocol):
    def masked_name(self, applicant_id: str) -> str:
        """The buyer's name as a platform may see it: "B*** S******"."""
        ...


class ProfileBuyerNames:
    """The name from the applicant's encrypted personal data, masked before it leaves."""

    def __init__(self, applicants: ApplicantRepository, vault: PersonalDataVault) -> None:
        self._applicants = applicants
        self._vault = vault

    def masked_name(self, applicant_id: str) -> str:
        record = self._applicants.get(applicant_id)
        return mask_name(self._vault.open(record).full_name) if record else ""


@dataclass(frozen=True)
class Redeemed:
    purchase: PurchaseRecord
    buyer_name: str


class PartnerService:
    """What platforms do with vouchers: redeem them, then report the course completed."""

    def __init__(self, purchases: Vouchers, names: BuyerNames, clock: Clock) -> None:
        self._purchases = purchases
        self._names = names
        self._clock = clock

    def redeem(self, platform: Partner, voucher_code: str) -> Redeemed:
        purchase = self._voucher(platform, voucher_code)
        now = self._clock.now()
        if purchase.status != PurchaseStatus.PAID or not self._purchases.redeem(purchase, now):
            raise Conflict("VOUCHER_ALREADY_REDEEMED", "This voucher has been redeemed already.")
        redeemed = purchase.with_changes(status=PurchaseStatus.REDEEMED, redeemed_at=now)
        return Redeemed(redeemed, self._names.masked_name(purchase.applicant_id))

    def complete(
        self, platform: Partner, request_code: str, completed_at: datetime, certificate_id: str
    ) -> PurchaseRecord:
        purchase = self._voucher(platform, request_code)
        if purchase.status == PurchaseStatus.REDEEMED:
            _check_completion_time(purchase, completed_at, self._clock)
            if self._purchases.complete(purchase, completed_at, certificate_id):
                return purchase.with_changes(
                    status=PurchaseStatus.COMPLETED, completed_at=completed_at, certificate_id=certificate_id
                )
            purchase = self._voucher(platform, request_code)  # completed meanwhile: judge the repeat
        if purchase.status == PurchaseStatus.PAID:
            raise Conflict("VOUCHER_NOT_REDEEMED", "A course is completed after its voucher was redeemed.")
        if purchase.certificate_id != certificate_id:
            raise Conflict(
                "ALREADY_COMPLETED", "This voucher was completed already, with another certificate; nothing changed."
            )
        return purchase  # a repeat of the same report: the first answer, no second effect

    def _voucher(self, platform: Partner, voucher_code: str) -> PurchaseRecord:
        if platform.kind != PartnerKind.PLATFORM:
            raise Forbidden("PLATFORMS_ONLY", "Only training platforms redeem vouchers and report completions.")
        purchase = self._purchases.by_voucher(voucher_code)
        if purchase is None or purchase.platform != platform.partner_id:
            raise VoucherNotFound
        return purchase


def _check_completion_time(purchase: PurchaseRecord, completed_at: datetime, clock: Clock) -> None:
    redeemed = purchase.redeemed_at
    if completed_at > clock.now() + CLOCK_SKEW or (redeemed is not None and completed_at < redeemed - CLOCK_SKEW):
        raise ValidationFailed(
            "COMPLETED_AT_INVALID", "completed_at must lie between the voucher's redemption and now."
        )
