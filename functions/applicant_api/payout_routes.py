"""Applicant routes of the incentives (API.md, "Applicants"): the payout account, my payouts
and the surveys that earn a survey incentive."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from applicant_api.dependencies import (
    attempt_limiter,
    idempotent_responses,
    incentive_service,
    payout_account_service,
)
from prakerja.http.auth import caller
from prakerja.http.params import IdempotencyKey, Limit, NextToken
from prakerja.http.schemas import answers
from prakerja.limits import Attempt
from prakerja.metrics import PAYOUT_ACCOUNTS_LINKED, OperationalMetric
from prakerja.observability import logger, metrics
from prakerja.payouts.models import (
    PayoutAccountRequest,
    PayoutAccountView,
    PayoutList,
    PayoutView,
    SurveyResponseCreated,
    SurveyResponseRequest,
)
from prakerja.program import load_program

router = Router()


@router.put(
    "/v1/applicants/me/payout-account",
    summary="Link my bank account or e-wallet; the partner validates it before money moves",
    responses=answers(
        400,
        401,
        403,
        404,
        409,
        413,
        422,
        status=202,
        description="Accepted: VALID or INVALID once the partner answered, PENDING until then",
        model=PayoutAccountView,
    ),
    tags=["Incentives"],
)
def link_payout_account(body: PayoutAccountRequest, idempotency_key: IdempotencyKey = None) -> Response[str]:
    account_id = caller(router).account_id

    def link() -> tuple[int, dict[str, Any]]:
        attempt_limiter().attempt(Attempt.PAYOUT_ACCOUNT, account_id)  # each asks the partner whose it is
        account = payout_account_service().link(account_id, body)
        metrics.add_metric(name=PAYOUT_ACCOUNTS_LINKED[account.status], unit=MetricUnit.Count, value=1)
        logger.info("payout account linked", extra={"provider": str(account.provider), "status": str(account.status)})
        return 202, PayoutAccountView.of(account).model_dump(mode="json")

    return idempotent_responses().respond(
        account_id=account_id,
        operation="payout-account",
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        produce=link,
    )


@router.get(
    "/v1/applicants/me/payout-account",
    summary="My payout account (masked) and its validation; a PENDING one is checked again",
    responses=answers(401, 404),
    tags=["Incentives"],
)
def payout_account() -> PayoutAccountView:
    return PayoutAccountView.of(payout_account_service().account(caller(router).account_id))


@router.get(
    "/v1/applicants/me/payouts",
    summary="My incentives: each payment with its status, failure code and times",
    responses=answers(401, 404, 422),
    tags=["Incentives"],
)
def my_payouts(limit: Limit = 50, next_token: NextToken = None) -> PayoutList:
    found, token = incentive_service().payouts(caller(router).account_id, limit, next_token)
    return PayoutList(items=[PayoutView.of(p) for p in found], next_token=token)


class SurveyView(BaseModel):
    survey_id: str
    title: str


class SurveyList(BaseModel):
    items: list[SurveyView]


@router.get("/v1/surveys", summary="The program's surveys, in order", responses=answers(401), tags=["Incentives"])
def surveys() -> SurveyList:
    caller(router)
    return SurveyList(items=[SurveyView(survey_id=s.survey_id, title=s.title) for s in load_program().surveys])


@router.post(
    "/v1/surveys/<survey_id>/responses",
    summary="Answer a survey (once); earns the survey incentive where my scheme has one",
    responses=answers(
        400,
        401,
        403,
        404,
        409,
        413,
        422,
        status=201,
        description="Recorded, with the incentive it earned",
        model=SurveyResponseCreated,
    ),
    tags=["Incentives"],
)
def answer_survey(survey_id: str, body: SurveyResponseRequest, idempotency_key: IdempotencyKey = None) -> Response[str]:
    account_id = caller(router).account_id

    def answer() -> tuple[int, dict[str, Any]]:
        payout = incentive_service().answer_survey(account_id, survey_id, body)
        metrics.add_metric(name=OperationalMetric.SURVEY_RESPONSES, unit=MetricUnit.Count, value=1)
        created = SurveyResponseCreated(survey_id=survey_id, incentive=PayoutView.of(payout) if payout else None)
        return 201, created.model_dump(mode="json")

    return idempotent_responses().respond(
        account_id=account_id,
        operation=f"survey:{survey_id[:40]}",
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        produce=answer,
    )
