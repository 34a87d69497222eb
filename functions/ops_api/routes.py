"""Ops routes (API.md, "Ops"). Every route requires a member of the `ops` group."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from ops_api.dependencies import exclusion_lists, wave_service
from prakerja.exclusions import ExclusionListImported, ExclusionListUpload
from prakerja.http.auth import ops_caller
from prakerja.http.schemas import problem_responses
from prakerja.observability import logger, metrics
from prakerja.waves.models import WaveRequest
from prakerja.waves.views import ProvinceCounts, WaveCreated, WaveStatusView, WaveView

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


@router.post(
    "/v1/ops/waves",
    summary="Create a wave with its quotas and the commitment to its draw seed",
    responses={201: {"description": "Wave created"}, **problem_responses(400, 401, 403, 413, 422)},
    tags=["Ops"],
)
def create_wave(body: WaveRequest) -> Response[str]:
    ops_caller(router)
    wave = wave_service().create(body)
    logger.info("wave created", extra={"wave_id": wave.wave_id, "quota_total": wave.quota_total})
    return Response(
        status_code=201, content_type="application/json", body=WaveCreated(wave_id=wave.wave_id).model_dump_json()
    )


@router.get(
    "/v1/ops/waves/<wave_id>",
    summary="A wave's status, counts per province and selection execution",
    responses=problem_responses(401, 403, 404),
    tags=["Ops"],
)
def wave_status(wave_id: str) -> WaveStatusView:
    ops_caller(router)
    service = wave_service()
    wave = service.get(wave_id)
    joined = service.joined_by_province(wave_id)
    report = wave.report.get("provinces", {})
    provinces = {
        code: ProvinceCounts(
            joined=count,
            eligible=report.get(code, {}).get("eligible"),
            selected=report.get(code, {}).get("selected"),
        )
        for code, count in joined.items()
    }
    return WaveStatusView(**WaveView.of(wave).model_dump(), provinces=provinces, execution_arn=wave.execution_arn)
