"""The case view of ops (API.md, "Ops"): search a person by NIK, e-mail or id (POST, so that a NIK
never sits in a URL or an access log) and read their case: the profile masked, status and
reasons, and the history of everything that happened to them."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel

from ops_api.dependencies import case_files
from prakerja.cases.case_view import Case, CaseSearch
from prakerja.clock import iso
from prakerja.http.auth import ops_caller
from prakerja.http.schemas import answers
from prakerja.observability import logger
from prakerja.registration.models import ApplicantStatus, RejectionReason
from prakerja.registration.records import ApplicantRecord

router = Router()


class CaseSummary(BaseModel):
    applicant_id: str
    masked_nik: str
    masked_name: str | None
    status: ApplicantStatus
    province_code: str
    regency_code: str
    wave_id: str | None
    created_at: str

    @classmethod
    def of(cls, record: ApplicantRecord) -> CaseSummary:
        return cls(
            applicant_id=record.applicant_id,
            masked_nik=record.nik_masked,
            masked_name=record.masked.full_name if record.masked else None,
            status=record.status,
            province_code=record.province_code,
            regency_code=record.regency_code,
            wave_id=record.wave_id,
            created_at=iso(record.created_at),
        )


class CaseSearchResult(BaseModel):
    items: list[CaseSummary]


class MaskedProfile(BaseModel):
    nik: str
    full_name: str | None  # masked; absent on profiles written before masks were kept
    phone: str | None
    email: str | None
    gender: str
    province_code: str
    regency_code: str
    education_level: str
    employment_status: str


class CaseCard(BaseModel):
    scheme: str
    wave_id: str
    training_balance: int
    purchase_deadline: str
    issued_at: str
    revoked_at: str | None


class CasePayoutAccount(BaseModel):
    type: str
    provider: str
    account_number: str  # masked
    status: str
    reason: str | None


class CaseHistoryEvent(BaseModel):
    at: str
    kind: str
    details: dict[str, object]


class CaseView(BaseModel):
    applicant_id: str
    profile: MaskedProfile
    status: ApplicantStatus
    reasons: list[RejectionReason]
    verification_attempt: int
    wave_id: str | None
    assessment_passed: bool | None
    card: CaseCard | None
    payout_account: CasePayoutAccount | None
    created_at: str
    updated_at: str
    history: list[CaseHistoryEvent]

    @classmethod
    def of(cls, case: Case) -> CaseView:
        r = case.record
        account = case.payout_account
        return cls(
            applicant_id=r.applicant_id,
            profile=MaskedProfile(
                nik=r.nik_masked,
                full_name=r.masked.full_name if r.masked else None,
                phone=r.masked.phone if r.masked else None,
                email=r.masked.email if r.masked else None,
                gender=r.gender.value,
                province_code=r.province_code,
                regency_code=r.regency_code,
                education_level=r.education_level.value,
                employment_status=r.employment_status.value,
            ),
            status=r.status,
            reasons=list(r.reasons),
            verification_attempt=r.verification_attempt,
            wave_id=r.wave_id,
            assessment_passed=r.assessment.passed if r.assessment else None,
            card=CaseCard(
                scheme=r.card.scheme,
                wave_id=r.card.wave_id,
                training_balance=r.card.training_balance,
                purchase_deadline=iso(r.card.purchase_deadline),
                issued_at=iso(r.card.issued_at),
                revoked_at=iso(r.card.revoked_at) if r.card.revoked_at else None,
            )
            if r.card
            else None,
            payout_account=CasePayoutAccount(
                type=account.type.value,
                provider=account.provider.value,
                account_number=account.account_masked,
                status=account.status.value,
                reason=account.reason,
            )
            if account
            else None,
            created_at=iso(r.created_at),
            updated_at=iso(r.updated_at),
            history=[CaseHistoryEvent(at=iso(e.at), kind=e.kind, details=e.details) for e in case.history],
        )


@router.post(
    "/v1/ops/applicants/search",
    summary="Find applicants by NIK, e-mail or id (exactly one; POST so that a NIK is never in a URL)",
    responses=answers(400, 401, 403, 413, 422, description="The profiles found", model=CaseSearchResult),
    tags=["Ops"],
)
def search_applicants(body: CaseSearch) -> CaseSearchResult:
    ops_caller(router)
    found = case_files().search(body)
    logger.info("case search", extra={"by": next(k for k, v in body.model_dump().items() if v), "found": len(found)})
    return CaseSearchResult(items=[CaseSummary.of(record) for record in found])


@router.get(
    "/v1/ops/applicants/<applicant_id>",
    summary="An applicant's case: the profile masked, status, reasons and the whole history",
    responses=answers(401, 403, 404),
    tags=["Ops"],
)
def applicant_case(applicant_id: str) -> CaseView:
    ops_caller(router)
    return CaseView.of(case_files().case(applicant_id))
