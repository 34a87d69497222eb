"""What the marketplace needs from storage. The DynamoDB implementations are in
prakerja.adapters.dynamodb_marketplace; tests use fakes (tests/fakes.py)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Protocol

from prakerja.ledger.postings import Posting
from prakerja.marketplace.models import PurchaseRecord, Review, Training, TrainingFilters


class Catalog(Protocol):
    def add(self, training: Training) -> None: ...

    def replace(self, training: Training) -> bool:
        """False when there is no such course."""
        ...

    def get(self, training_id: str) -> Training | None: ...

    def search(self, filters: TrainingFilters, limit: int, next_token: str | None) -> tuple[list[Training], str | None]:
        """Matching courses in a stable order; ``next_token`` is None on the last page."""
        ...


class BuyOutcome(Enum):
    BOUGHT = "BOUGHT"
    CARD_CHANGED = "CARD_CHANGED"  # the balance or status moved since it was read: read again
    VOUCHER_TAKEN = "VOUCHER_TAKEN"  # the random code is in use: draw another
    PRICE_CHANGED = "PRICE_CHANGED"  # the course changed since it was read: read again


class Vouchers(Protocol):
    def get(self, applicant_id: str, purchase_id: str) -> PurchaseRecord | None: ...

    def by_voucher(self, voucher_code: str) -> PurchaseRecord | None: ...

    def redeem(self, purchase: PurchaseRecord, at: datetime) -> bool:
        """PAID -> REDEEMED; False when it is no longer PAID."""
        ...

    def complete(self, purchase: PurchaseRecord, completed_at: datetime, certificate_id: str) -> bool:
        """REDEEMED -> COMPLETED; False when it is no longer REDEEMED."""
        ...


class Purchases(Vouchers, Protocol):
    def buy(self, purchase: PurchaseRecord, expected_balance: int, posting: Posting) -> BuyOutcome:
        """One transaction: the card of ``purchase.applicant_id`` goes from ``expected_balance``
        to ``purchase.balance_after`` (only if it still holds exactly that, is the same card and
        the applicant is SELECTED), the purchase and its voucher are stored and the ledger
        posting is written. Nothing at all is written unless everything is."""
        ...

    def list(self, applicant_id: str, limit: int, next_token: str | None) -> tuple[list[PurchaseRecord], str | None]:
        """Newest first."""
        ...

    def review(self, purchase: PurchaseRecord, review: Review) -> bool:
        """Stores the review and adds its rating to the course's; False when the purchase is
        not COMPLETED or already reviewed."""
        ...
