"""Partner routes (API.md, "Partners"): training platforms redeem vouchers and report
completions; payment partners confirm transfers. The handler has checked the signature before any route runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from partner_api.dependencies import attempt_limiter, partner_service, settlements
from prakerja.clock import iso
from prakerja.errors import Forbidden, NotFound
from prakerja.http.schemas import answers
from prakerja.limits import Attempt
from prakerja.marketplace.models import (
    CompletionRequest,
    CompletionView,
    CourseRef,
    RedemptionRequest,
    RedemptionView,
)
from prakerja.marketplace.service import VoucherNotFound
from prakerja.metrics import OperationalMetric, ProgramMetric
from prakerja.observability import logger, metrics
from prakerja.partners import Partner, PartnerKind
from prakerja.payouts.models import TRANSFER_ID, CallbackAnswer, PaymentCallback, TransferAnswer, TransferState

router = Router()
PARTNER = "partner"  # the authenticated partner, in the router's context
T = TypeVar("T")


def _partner() -> Partner:
    partner = router.context.get(PARTNER)
    assert isinstance(partner, Partner), "the handler authenticates every partner call"
    return partner


def _voucher_lookup(lookup: Callable[[], T]) -> T:
    """A platform guessing codes shows as misses: past the limit, every lookup of that
    platform is refused for the window, hits too, so that a hit cannot be told from a miss."""
    limiter, platform = attempt_limiter(), _partner().partner_id
    limiter.ensure_allowed(Attempt.VOUCHER_MISS, platform)
    try:
        return lookup()
    except VoucherNotFound:
        limiter.attempt(Attempt.VOUCHER_MISS, platform)
        raise


@router.post(
    "/v1/partner/redemptions",
    summary="A platform redeems a voucher: the course and the buyer's masked name",
    responses=answers(400, 401, 403, 404, 409, 413, 422),
    tags=["Partners"],
)
def redeem(body: RedemptionRequest) -> RedemptionView:
    redeemed = _voucher_lookup(lambda: partner_service().redeem(_partner(), body.voucher_code))
    purchase = redeemed.purchase
    metrics.add_metric(name=OperationalMetric.VOUCHERS_REDEEMED, unit=MetricUnit.Count, value=1)
    logger.info("voucher redeemed", extra={"purchase_id": purchase.purchase_id, "platform": purchase.platform})
    assert purchase.redeemed_at is not None
    return RedemptionView(
        voucher_code=purchase.voucher_code,
        purchase_id=purchase.purchase_id,
        status=purchase.status,
        redeemed_at=iso(purchase.redeemed_at),
        training=CourseRef(training_id=purchase.training_id, title=purchase.title),
        buyer_name=redeemed.buyer_name,
    )


@router.post(
    "/v1/partner/completions",
    summary="A platform reports a course completed with its certificate; repeats change nothing",
    responses=answers(400, 401, 403, 404, 409, 413, 422),
    tags=["Partners"],
)
def complete(body: CompletionRequest) -> CompletionView:
    purchase = _voucher_lookup(
        lambda: partner_service().complete(_partner(), body.voucher_code, body.completed_at, body.certificate_id)
    )
    metrics.add_metric(name=ProgramMetric.COURSES_COMPLETED, unit=MetricUnit.Count, value=1)
    logger.info("course completed", extra={"purchase_id": purchase.purchase_id, "platform": purchase.platform})
    assert purchase.completed_at is not None and purchase.certificate_id is not None
    return CompletionView(
        voucher_code=purchase.voucher_code,
        purchase_id=purchase.purchase_id,
        status=purchase.status,
        completed_at=iso(purchase.completed_at),
        certificate_id=purchase.certificate_id,
    )


@router.post(
    "/v1/partner/payments/<transfer_id>/callback",
    summary="A payment partner confirms a transfer (SUCCESS or FAILED); repeats change nothing",
    responses=answers(400, 401, 403, 404, 409, 413, 422),
    tags=["Partners"],
)
def payment_callback(transfer_id: str, body: PaymentCallback) -> CallbackAnswer:
    partner = _partner()
    if partner.kind != PartnerKind.PAYMENT:
        raise Forbidden("PAYMENT_PARTNERS_ONLY", "Only payment partners confirm transfers.")
    if re.fullmatch(TRANSFER_ID, transfer_id) is None:
        raise NotFound("TRANSFER_NOT_FOUND", "There is no such transfer for this partner.")
    answer = TransferAnswer(TransferState(body.status), body.reference, body.failure_code, body.settled_at)
    payout = settlements().confirm(partner.partner_id, transfer_id, answer)
    metrics.add_metric(name=OperationalMetric.PAYMENT_CALLBACKS, unit=MetricUnit.Count, value=1)
    logger.info("transfer confirmed", extra={"transfer_id": transfer_id, "status": str(payout.status)})
    return CallbackAnswer(transfer_id=transfer_id, status=payout.status, failure_code=payout.failure_code)
