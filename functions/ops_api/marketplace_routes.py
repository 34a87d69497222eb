"""Ops routes of the marketplace and the ledger (API.md, "Ops"): courses in the catalog, the
ledger's report and statements, and budget allocations."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from ops_api.dependencies import catalog_service, ledger_service
from prakerja.http.app import model_response
from prakerja.http.auth import ops_caller
from prakerja.http.schemas import answers
from prakerja.ledger.report import LedgerReport
from prakerja.ledger.service import AccountStatement, AllocationPosted, AllocationRequest
from prakerja.marketplace.models import TrainingCreated, TrainingRequest, TrainingView
from prakerja.metrics import ProgramMetric
from prakerja.observability import logger, metrics

router = Router()


@router.post(
    "/v1/ops/trainings",
    summary="Add a course to the catalog",
    responses=answers(400, 401, 403, 413, 422, status=201, description="Course added", model=TrainingCreated),
    tags=["Ops"],
)
def add_training(body: TrainingRequest) -> Response[str]:
    ops_caller(router)
    training = catalog_service().add(body)
    logger.info("course added", extra={"training_id": training.training_id, "platform": training.platform})
    return model_response(201, TrainingCreated(training_id=training.training_id))


@router.put(
    "/v1/ops/trainings/<training_id>",
    summary="Update a course (its reviews stay)",
    responses=answers(400, 401, 403, 404, 413, 422),
    tags=["Ops"],
)
def update_training(training_id: str, body: TrainingRequest) -> TrainingView:
    ops_caller(router)
    training = catalog_service().update(training_id, body)
    logger.info("course updated", extra={"training_id": training_id})
    return TrainingView.of(training)


@router.get(
    "/v1/ops/ledger",
    summary="Budget, committed, disbursed and returned money, per account; balanced or not",
    responses=answers(401, 403),
    tags=["Ops"],
)
def ledger() -> LedgerReport:
    ops_caller(router)
    report = ledger_service().report()
    metrics.add_metric(name=ProgramMetric.LEDGER_IMBALANCE, unit=MetricUnit.Count, value=report.imbalance)
    if not report.balanced:  # never expected: every posting balances by construction
        logger.error("ledger not balanced", extra={"debits": report.debits, "credits": report.credits})
    return report


@router.get(
    "/v1/ops/ledger/accounts/<account_id>",
    summary="A card's or an applicant's account: every entry and the balance recomputed from them",
    responses=answers(401, 403, 422),
    tags=["Ops"],
)
def ledger_account(account_id: str) -> AccountStatement:
    ops_caller(router)
    return ledger_service().statement(account_id)


@router.post(
    "/v1/ops/ledger/allocations",
    summary="Post a budget allocation from the state budget to the program (once per reference)",
    responses=answers(
        400, 401, 403, 409, 413, 422, status=201, description="Allocation posted", model=AllocationPosted
    ),
    tags=["Ops"],
)
def allocate(body: AllocationRequest) -> Response[str]:
    ops_caller(router)
    posted = ledger_service().allocate(body)
    logger.info("budget allocated", extra={"posting_id": posted.posting_id, "amount": posted.amount})
    return model_response(201, posted)
