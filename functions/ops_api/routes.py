"""Ops routes (API.md, "Ops"). Every route requires a member of the `ops` group."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from ops_api.dependencies import exclusion_lists, wave_service
from prakerja.exclusions import ExclusionListImported, ExclusionListUpload
from prakerja.http.app import model_response
from prakerja.http.auth import ops_caller
from prakerja.http.params import Limit, NextToken
from prakerja.http.schemas import answers
from prakerja.metrics import OperationalMetric
from prakerja.observability import logger, metrics
from prakerja.waves.models import CloseRequest, WaveRequest
from prakerja.waves.views import (
    ProvinceCounts,
    SelectionStarted,
    WaveCreated,
    WaveStatusView,
    WaveSummaryList,
    WaveSummaryView,
)

router = Router()


@router.post(
    "/v1/ops/exclusion-lists/<source>",
    summary="Import an agency's exclusion list (stored as keyed hashes, never in clear)",
    responses=answers(400, 401, 403, 404, 413, 422),
    tags=["Ops"],
)
def import_exclusion_list(source: str, body: ExclusionListUpload) -> ExclusionListImported:
    ops_caller(router)
    result = exclusion_lists().import_list(source, body)
    metrics.add_metric(name=OperationalMetric.EXCLUSIONS_IMPORTED, unit=MetricUnit.Count, value=result.stored)
    logger.info("exclusion list imported", extra={"source": result.source, "count": result.stored})
    return result


@router.post(
    "/v1/ops/waves",
    summary="Create a wave with its quotas and the commitment to its draw seed",
    responses=answers(400, 401, 403, 413, 422, status=201, description="Wave created", model=WaveCreated),
    tags=["Ops"],
)
def create_wave(body: WaveRequest) -> Response[str]:
    ops_caller(router)
    wave = wave_service().create(body)
    logger.info("wave created", extra={"wave_id": wave.wave_id, "quota_total": wave.quota_total})
    return model_response(201, WaveCreated(wave_id=wave.wave_id))


@router.get(
    "/v1/ops/waves",
    summary="Every wave, newest first: status, quota, selection execution and the draw's totals",
    responses=answers(401, 403, 422),
    tags=["Ops"],
)
def list_waves(limit: Limit = 50, next_token: NextToken = None) -> WaveSummaryList:
    ops_caller(router)
    waves, token = wave_service().waves(limit, next_token)
    return WaveSummaryList(items=[WaveSummaryView.of(w) for w in waves], next_token=token)


@router.get(
    "/v1/ops/waves/<wave_id>",
    summary="A wave's status, counts per province and selection execution",
    responses=answers(401, 403, 404),
    tags=["Ops"],
)
def wave_status(wave_id: str) -> WaveStatusView:
    ops_caller(router)
    service = wave_service()
    wave = service.get(wave_id)
    if wave.report is not None:  # after the draw: what the selection workflow counted
        provinces = {code: ProvinceCounts(**p.model_dump()) for code, p in wave.report.provinces.items()}
    else:
        provinces = {code: ProvinceCounts(joined=n) for code, n in service.joined_by_province(wave_id).items()}
    return WaveStatusView(**WaveSummaryView.of(wave).model_dump(), provinces=provinces)


@router.post(
    "/v1/ops/waves/<wave_id>/close",
    summary="Close a wave with its revealed seed and start the selection workflow",
    responses=answers(
        400, 401, 403, 404, 409, 413, 422, status=202, description="Selection started", model=SelectionStarted
    ),
    tags=["Ops"],
)
def close_wave(wave_id: str, body: CloseRequest) -> Response[str]:
    ops_caller(router)
    execution_arn = wave_service().close(wave_id, body)
    metrics.add_metric(name=OperationalMetric.WAVES_CLOSED, unit=MetricUnit.Count, value=1)
    logger.info("wave closed", extra={"wave_id": wave_id, "execution_arn": execution_arn})
    return model_response(202, SelectionStarted(execution_arn=execution_arn))
