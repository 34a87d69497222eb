"""Applicant routes: profile and the basic assessment (API.md, "Applicants")."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from applicant_api.dependencies import attempt_limiter, idempotent_responses, registration_service, wave_service
from applicant_api.views import ApplicantProfileView, AssessmentResultView, RegistrationCreated
from prakerja.http.auth import caller
from prakerja.http.params import IdempotencyKey, Limit, NextToken
from prakerja.http.schemas import answers
from prakerja.limits import Attempt
from prakerja.metrics import OperationalMetric, ProgramMetric
from prakerja.observability import logger, metrics
from prakerja.registration.assessment import load_assessment
from prakerja.registration.models import AssessmentSubmission, RegistrationRequest
from prakerja.waves.views import Joined, WaveList, WaveView

router = Router()


@router.post(
    "/v1/applicants",
    summary="Create my applicant profile and start verification",
    responses=answers(
        400,
        401,
        409,
        413,
        422,
        status=201,
        description="Profile created; the registration workflow started",
        model=RegistrationCreated,
    ),
    tags=["Applicants"],
)
def create_profile(body: RegistrationRequest, idempotency_key: IdempotencyKey = None) -> Response[str]:
    account_id = caller(router).account_id

    def register() -> tuple[int, dict[str, Any]]:
        attempt_limiter().attempt(Attempt.REGISTRATION, account_id)  # NIK_ALREADY_REGISTERED is an oracle
        record = registration_service().register(account_id, body)
        metrics.add_metric(name=ProgramMetric.REGISTRATIONS, unit=MetricUnit.Count, value=1)
        logger.info("profile created", extra={"applicant_id": record.applicant_id})
        return 201, RegistrationCreated(applicant_id=record.applicant_id, status=record.status).model_dump(mode="json")

    return idempotent_responses().respond(
        account_id=account_id,
        operation="create_profile",
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        produce=register,
    )


@router.get(
    "/v1/applicants/me",
    summary="My profile (NIK masked), status and rejection reasons",
    responses=answers(401, 404),
    tags=["Applicants"],
)
def my_profile() -> ApplicantProfileView:
    return ApplicantProfileView.of(registration_service().profile(caller(router).account_id))


@router.put(
    "/v1/applicants/me",
    summary="Correct my profile (the NIK cannot change) and have it checked again",
    description="While REJECTED, VERIFIED or NOT_SELECTED, or VERIFYING after a run that ended without a decision: "
    "the registration workflow runs again on the corrected profile. 409 PROFILE_LOCKED while in a wave or once "
    "selected; 409 VERIFICATION_IN_PROGRESS while the checks are running.",
    responses=answers(
        400,
        401,
        404,
        409,
        413,
        422,
        429,
        status=202,
        description="Profile corrected; the checks run again",
        model=RegistrationCreated,
    ),
    tags=["Applicants"],
)
def correct_profile(body: RegistrationRequest, idempotency_key: IdempotencyKey = None) -> Response[str]:
    account_id = caller(router).account_id

    def correct() -> tuple[int, dict[str, Any]]:
        attempt_limiter().attempt(Attempt.CORRECTION, account_id)
        record = registration_service().correct(account_id, body)
        metrics.add_metric(name=OperationalMetric.PROFILE_CORRECTIONS, unit=MetricUnit.Count, value=1)
        logger.info("profile corrected", extra={"applicant_id": record.applicant_id})
        return 202, RegistrationCreated(applicant_id=record.applicant_id, status=record.status).model_dump(mode="json")

    return idempotent_responses().respond(
        account_id=account_id,
        operation="correct_profile",
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        produce=correct,
    )


@router.get(
    "/v1/assessment",
    summary="The basic motivation and ability test",
    responses=answers(401),
    tags=["Applicants"],
)
def assessment() -> dict[str, Any]:
    caller(router)
    return load_assessment().public_view()


@router.post(
    "/v1/applicants/me/assessment",
    summary="Submit answers to the assessment; may be retaken",
    responses=answers(400, 401, 404, 413, 422, description="Score and result", model=AssessmentResultView),
    tags=["Applicants"],
)
def submit_assessment(body: AssessmentSubmission, idempotency_key: IdempotencyKey = None) -> Response[str]:
    account_id = caller(router).account_id

    def score() -> tuple[int, dict[str, Any]]:
        attempt_limiter().attempt(Attempt.ASSESSMENT, account_id)
        result = registration_service().submit_assessment(account_id, body)
        passed = OperationalMetric.ASSESSMENTS_PASSED if result.passed else OperationalMetric.ASSESSMENTS_FAILED
        metrics.add_metric(name=passed, unit=MetricUnit.Count, value=1)
        return 200, AssessmentResultView(score=result.score, passed=result.passed).model_dump(mode="json")

    return idempotent_responses().respond(
        account_id=account_id,
        operation="submit_assessment",
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        produce=score,
    )


@router.get(
    "/v1/waves",
    summary="Open waves",
    responses=answers(401, 422),
    tags=["Waves"],
)
def open_waves(
    limit: Limit = 50,
    next_token: NextToken = None,
) -> WaveList:
    caller(router)
    waves, token = wave_service().open_waves(limit, next_token)
    return WaveList(items=[WaveView.of(w) for w in waves], next_token=token)


@router.post(
    "/v1/waves/<wave_id>/join",
    summary="Join an open wave (one at a time; verified and assessed applicants)",
    responses=answers(401, 404, 409),
    tags=["Waves"],
)
def join_wave(wave_id: str) -> Joined:
    wave = wave_service().join(caller(router).account_id, wave_id)
    metrics.add_metric(name=ProgramMetric.WAVE_JOINS, unit=MetricUnit.Count, value=1)
    return Joined(status="IN_WAVE", wave_id=wave.wave_id)
