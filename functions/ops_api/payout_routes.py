"""Ops routes of the payouts (API.md, "Ops"): payout runs and settlement reconciliations."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from ops_api.dependencies import payout_failures, payout_operations
from prakerja.http.app import model_response
from prakerja.http.auth import ops_caller
from prakerja.http.params import Limit, NextToken
from prakerja.http.schemas import answers
from prakerja.observability import logger
from prakerja.payouts.failures import FailedPayoutList, FailureCounts
from prakerja.payouts.models import FailureCode
from prakerja.payouts.operations import PayoutRunStarted, ReconciliationRequest, ReconciliationStarted

router = Router()

# Only FAILED payouts have an index to list them by (a scan of every payout is never done).
ListedStatus = Annotated[Literal["FAILED"], Query(description="Only FAILED is listed")]


@router.post(
    "/v1/ops/payout-runs",
    summary="Start a payout run for everything due (the payout workflow)",
    responses=answers(401, 403, status=202, description="Started: the execution", model=PayoutRunStarted),
    tags=["Ops"],
)
def start_payout_run() -> Response[str]:
    ops_caller(router)
    started = payout_operations().start_run()
    logger.info("payout run started", extra={"execution_arn": started.execution_arn})
    return model_response(202, started)


@router.post(
    "/v1/ops/reconciliations",
    summary="Reconcile a payment partner's settlement report of one day with the ledger",
    responses=answers(
        400, 401, 403, 413, 422, status=202, description="Started: the execution", model=ReconciliationStarted
    ),
    tags=["Ops"],
)
def start_reconciliation(body: ReconciliationRequest) -> Response[str]:
    ops_caller(router)
    started = payout_operations().start_reconciliation(body)
    logger.info("reconciliation started", extra={"execution_arn": started.execution_arn})
    return model_response(202, started)


@router.get(
    "/v1/ops/reconciliations/<provider>/<day>",
    summary="A reconciliation's result: matched lines and every discrepancy",
    responses=answers(401, 403, 404),
    tags=["Ops"],
)
def reconciliation(provider: str, day: str) -> dict[str, Any]:
    ops_caller(router)
    return payout_operations().reconciliation(provider, day)


@router.get(
    "/v1/ops/payouts",
    summary="Failed payouts, code by code, the newest failure first (optionally one failure code)",
    responses=answers(401, 403, 422),
    tags=["Ops"],
)
def failed_payouts(
    status: ListedStatus,
    failure_code: Annotated[FailureCode | None, Query()] = None,
    limit: Limit = 50,
    next_token: NextToken = None,
) -> FailedPayoutList:
    ops_caller(router)
    return payout_failures().page(failure_code, limit, next_token)


@router.get(
    "/v1/ops/payouts/failure-counts",
    summary="How many payouts are FAILED now, per failure code",
    responses=answers(401, 403),
    tags=["Ops"],
)
def failure_counts() -> FailureCounts:
    ops_caller(router)
    return payout_failures().counts()
