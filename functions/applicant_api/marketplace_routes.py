"""Applicant routes of the training marketplace (API.md, "Applicants"): the catalog,
purchases with the card balance, and reviews."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.metrics import MetricUnit

from applicant_api.dependencies import catalog_service, idempotent_responses, incentive_service, marketplace_service
from prakerja.http.auth import caller
from prakerja.http.params import IdempotencyKey, Limit, NextToken
from prakerja.http.schemas import answers
from prakerja.marketplace.models import (
    Category,
    PurchaseCreated,
    PurchaseList,
    PurchaseRequest,
    PurchaseView,
    ReviewRequest,
    TrainingFilters,
    TrainingList,
    TrainingType,
    TrainingView,
)
from prakerja.metrics import OperationalMetric, ProgramMetric
from prakerja.observability import logger, metrics

router = Router()


@router.get(
    "/v1/trainings",
    summary="The course catalog, filtered and paginated",
    responses=answers(401, 422),
    tags=["Marketplace"],
)
def trainings(
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Words in the title or institution")
    ] = None,
    category: Category | None = None,
    platform: Annotated[str | None, Query(pattern=r"^[A-Z0-9_]{2,32}$")] = None,
    type: TrainingType | None = None,
    limit: Limit = 50,
    next_token: NextToken = None,
) -> TrainingList:
    caller(router)
    filters = TrainingFilters(q=q, category=category, platform=platform, type=type)
    found, token = catalog_service().search(filters, limit, next_token)
    return TrainingList(items=[TrainingView.of(t) for t in found], next_token=token)


@router.get(
    "/v1/trainings/<training_id>",
    summary="One course",
    responses=answers(401, 404),
    tags=["Marketplace"],
)
def training(training_id: str) -> TrainingView:
    caller(router)
    return TrainingView.of(catalog_service().get(training_id))


@router.post(
    "/v1/purchases",
    summary="Buy a course with the card's training balance; answers the voucher code",
    responses=answers(
        400,
        401,
        403,
        404,
        409,
        413,
        422,
        status=201,
        description="Bought: the voucher code to redeem on the course's platform",
        model=PurchaseCreated,
    ),
    tags=["Marketplace"],
)
def buy(body: PurchaseRequest, idempotency_key: IdempotencyKey = None) -> Response[str]:
    account_id = caller(router).account_id

    def purchase() -> tuple[int, dict[str, Any]]:
        bought = marketplace_service().buy(account_id, body)
        metrics.add_metric(name=ProgramMetric.PURCHASES, unit=MetricUnit.Count, value=1)
        metrics.add_metric(name=OperationalMetric.PURCHASE_RUPIAH, unit=MetricUnit.Count, value=bought.purchase.price)
        logger.info("course bought", extra={"purchase_id": bought.purchase.purchase_id})
        answer = PurchaseCreated(
            purchase_id=bought.purchase.purchase_id,
            voucher_code=bought.purchase.voucher_code,
            price=bought.purchase.price,
            training_balance=bought.training_balance,
        )
        return 201, answer.model_dump(mode="json")

    return idempotent_responses().respond(
        account_id=account_id, operation="buy", key=idempotency_key, body=body.model_dump(mode="json"), produce=purchase
    )


@router.get(
    "/v1/purchases",
    summary="My purchases, newest first, with their vouchers, completion and certificate",
    responses=answers(401, 404, 422),
    tags=["Marketplace"],
)
def my_purchases(limit: Limit = 50, next_token: NextToken = None) -> PurchaseList:
    found, token = marketplace_service().purchases(caller(router).account_id, limit, next_token)
    return PurchaseList(items=[PurchaseView.of(p) for p in found], next_token=token)


@router.post(
    "/v1/purchases/<purchase_id>/review",
    summary="Rate and review a completed course (once)",
    responses=answers(400, 401, 404, 409, 413, 422, description="The purchase, reviewed", model=PurchaseView),
    tags=["Marketplace"],
)
def review(purchase_id: str, body: ReviewRequest, idempotency_key: IdempotencyKey = None) -> Response[str]:
    account_id = caller(router).account_id

    def add_review() -> tuple[int, dict[str, Any]]:
        reviewed = marketplace_service().review(account_id, purchase_id, body)
        metrics.add_metric(name=OperationalMetric.REVIEWS, unit=MetricUnit.Count, value=1)
        # A review may be the last thing the job-search incentive waited for.
        granted = incentive_service().settle_for_account(account_id)
        if granted:
            metrics.add_metric(name=OperationalMetric.INCENTIVES_GRANTED, unit=MetricUnit.Count, value=len(granted))
        return 200, PurchaseView.of(reviewed).model_dump(mode="json")

    return idempotent_responses().respond(
        account_id=account_id,
        operation=f"review:{purchase_id[:64]}",
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        produce=add_review,
    )
