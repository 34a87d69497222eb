"""Ops routes (API.md, "Ops"). Every route requires a member of the `ops` group."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from ops_api.dependencies import exclusion_lists
from prakerja.exclusions import ExclusionListImported, ExclusionListUpload
from prakerja.http.auth import ops_caller
from prakerja.http.schemas import problem_responses
from prakerja.observability import logger, metrics

router = Router()


@router.post(
    "/v1/ops/exclusion-lists/<source>",
    summary="Import an agency's exclusion list (stored as keyed hashes, never in clear)",
    responses=problem_responses(400, 401, 403, 404, 413, 422),
    tags=["Ops"],
)
def import_exclusion_list(source: str, body: ExclusionListUpload) -> ExclusionListImported:
    ops_caller(router)
    result = exclusion_lists().import_list(source, body)
    metrics.add_metric(name="ExclusionsImported", unit=MetricUnit.Count, value=result.stored)
    logger.info("exclusion list imported", extra={"source": result.source, "count": result.stored})
    return result
