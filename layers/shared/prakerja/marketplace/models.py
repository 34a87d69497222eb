"""Courses, purchases and vouchers: the records and the API's request and answer shapes."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from prakerja.clock import IsoDateTime, iso


class TrainingType(StrEnum):
    WEBINAR = "WEBINAR"
    SELF_PACED = "SELF_PACED"
    OFFLINE = "OFFLINE"


class Category(StrEnum):
    SALES_MARKETING = "SALES_MARKETING"
    IT = "IT"
    LANGUAGE = "LANGUAGE"
    FINANCE = "FINANCE"
    CULINARY = "CULINARY"
    AGRICULTURE = "AGRICULTURE"
    MANUFACTURING = "MANUFACTURING"
    TOURISM = "TOURISM"
    HEALTH = "HEALTH"
    CREATIVE = "CREATIVE"
    ENTREPRENEURSHIP = "ENTREPRENEURSHIP"
    OFFICE = "OFFICE"


class PurchaseStatus(StrEnum):
    PAID = "PAID"  # bought: the voucher waits for the platform
    REDEEMED = "REDEEMED"  # the platform took the voucher: the course has started
    COMPLETED = "COMPLETED"  # finished, with a certificate


TRAINING_ID = r"^trn-[0-9a-f]{12}$"
PURCHASE_ID = r"^pur-[0-9a-f]{32}$"
MAX_PRICE = 10_000_000  # above the largest training balance of any scheme

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=120)]


class TrainingRequest(BaseModel):
    """`POST /v1/ops/trainings` and `PUT /v1/ops/trainings/{training_id}`."""

    model_config = ConfigDict(extra="forbid")

    title: Text
    institution: Text
    platform: str = Field(pattern=r"^[A-Z0-9_]{2,32}$", description="The platform partner's partner_id")
    type: TrainingType
    price: int = Field(gt=0, le=MAX_PRICE, description="Whole Rupiah")
    hours: int = Field(ge=1, le=1000)
    category: Category


def is_training_id(text: str) -> bool:
    return re.fullmatch(TRAINING_ID, text) is not None


def is_purchase_id(text: str) -> bool:
    return re.fullmatch(PURCHASE_ID, text) is not None


def new_training_id() -> str:
    return f"trn-{uuid.uuid4().hex[:12]}"


def new_purchase_id(now: datetime) -> str:
    """Milliseconds first, so an applicant's purchases sort by time; 80 random bits after."""
    return f"pur-{int(now.timestamp() * 1000):012x}{secrets.token_hex(10)}"


# Crockford base32 without I, L, O, U: nothing to misread when a code is typed in.
_VOUCHER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
VOUCHER_CHARS = 16  # 80 bits from the OS's CSPRNG: not guessable, even by the million


def new_voucher_code() -> str:
    raw = "".join(secrets.choice(_VOUCHER_ALPHABET) for _ in range(VOUCHER_CHARS))
    return "-".join(raw[i : i + 4] for i in range(0, VOUCHER_CHARS, 4))


def normalize_voucher_code(text: str) -> str:
    """The canonical XXXX-XXXX-XXXX-XXXX form of a code typed with any case or separators,
    or "" when it cannot be a voucher code."""
    raw = "".join(ch for ch in text.upper() if ch not in "- ")
    if len(raw) != VOUCHER_CHARS or any(ch not in _VOUCHER_ALPHABET for ch in raw):
        return ""
    return "-".join(raw[i : i + 4] for i in range(0, VOUCHER_CHARS, 4))


@dataclass(frozen=True)
class Training:
    training_id: str
    title: str
    institution: str
    platform: str
    type: TrainingType
    price: int
    hours: int
    category: Category
    created_at: datetime
    updated_at: datetime
    rating_sum: int = 0
    rating_count: int = 0

    @classmethod
    def of(cls, training_id: str, request: TrainingRequest, created_at: datetime, now: datetime) -> Training:
        return cls(training_id=training_id, created_at=created_at, updated_at=now, **request.model_dump())

    def matches(self, filters: TrainingFilters) -> bool:
        return (
            (filters.q is None or filters.q.lower() in f"{self.title} {self.institution}".lower())
            and (filters.category is None or self.category == filters.category)
            and (filters.platform is None or self.platform == filters.platform)
            and (filters.type is None or self.type == filters.type)
        )


@dataclass(frozen=True)
class TrainingFilters:
    q: str | None = None
    category: Category | None = None
    platform: str | None = None
    type: TrainingType | None = None


@dataclass(frozen=True)
class Review:
    rating: int
    text: str
    reviewed_at: datetime


@dataclass(frozen=True)
class PurchaseRecord:
    purchase_id: str
    applicant_id: str
    card_number: str
    training_id: str
    title: str
    platform: str
    price: int
    voucher_code: str
    status: PurchaseStatus
    purchased_at: datetime
    balance_after: int  # the card's training balance right after this purchase
    redeemed_at: datetime | None = None
    completed_at: datetime | None = None
    certificate_id: str | None = None
    review: Review | None = None

    def with_changes(self, **changes: object) -> PurchaseRecord:
        return replace(self, **changes)  # type: ignore[arg-type]


# -- answers ------------------------------------------------------------------------------------
class TrainingView(BaseModel):
    training_id: str
    title: str
    institution: str
    platform: str
    type: TrainingType
    price: int
    hours: int
    category: Category
    rating: float | None = Field(description="Average of the reviews, 1-5; null before the first review")
    reviews: int

    @classmethod
    def of(cls, t: Training) -> TrainingView:
        return cls(
            training_id=t.training_id,
            title=t.title,
            institution=t.institution,
            platform=t.platform,
            type=t.type,
            price=t.price,
            hours=t.hours,
            category=t.category,
            rating=round(t.rating_sum / t.rating_count, 2) if t.rating_count else None,
            reviews=t.rating_count,
        )


class TrainingList(BaseModel):
    items: list[TrainingView]
    next_token: str | None = None


class TrainingCreated(BaseModel):
    training_id: str


class PurchaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    training_id: str = Field(pattern=TRAINING_ID)


class PurchaseCreated(BaseModel):
    purchase_id: str
    voucher_code: str
    price: int
    training_balance: int = Field(description="The card's training balance after this purchase")


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5)
    review: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class ReviewView(BaseModel):
    rating: int
    review: str
    reviewed_at: str


class PurchaseView(BaseModel):
    purchase_id: str
    training_id: str
    title: str
    platform: str
    price: int
    voucher_code: str
    status: PurchaseStatus
    purchased_at: str
    redeemed_at: str | None = None
    completed_at: str | None = None
    certificate_id: str | None = None
    review: ReviewView | None = None

    @classmethod
    def of(cls, p: PurchaseRecord) -> PurchaseView:
        return cls(
            purchase_id=p.purchase_id,
            training_id=p.training_id,
            title=p.title,
            platform=p.platform,
            price=p.price,
            voucher_code=p.voucher_code,
            status=p.status,
            purchased_at=iso(p.purchased_at),
            redeemed_at=iso(p.redeemed_at) if p.redeemed_at else None,
            completed_at=iso(p.completed_at) if p.completed_at else None,
            certificate_id=p.certificate_id,
            review=ReviewView(rating=p.review.rating, review=p.review.text, reviewed_at=iso(p.review.reviewed_at))
            if p.review
            else None,
        )


class PurchaseList(BaseModel):
    items: list[PurchaseView]
    next_token: str | None = None


# -- partner calls ------------------------------------------------------------------------------
def _voucher(text: str) -> str:
    code = normalize_voucher_code(text)
    if not code:
        raise ValueError("a voucher code: 16 letters and digits, in groups of four")
    return code


VoucherCode = Annotated[str, StringConstraints(max_length=64), AfterValidator(_voucher)]


class RedemptionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    voucher_code: VoucherCode


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    voucher_code: VoucherCode
    completed_at: IsoDateTime
    certificate_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/\-]{2,63}$")


class CourseRef(BaseModel):
    training_id: str
    title: str


class RedemptionView(BaseModel):
    voucher_code: str
    purchase_id: str
    status: PurchaseStatus
    redeemed_at: str
    training: CourseRef
    buyer_name: str = Field(description="Masked: each word keeps its first letter")


class CompletionView(BaseModel):
    voucher_code: str
    purchase_id: str
    status: PurchaseStatus
    completed_at: str
    certificate_id: str
