"""What applicants see of their profile: codes and masked identifiers, never a full NIK."""

from __future__ import annotations

from pydantic import BaseModel

from prakerja.clock import iso
from prakerja.registration.models import ApplicantStatus, RejectionReason
from prakerja.registration.service import Profile


class RegistrationCreated(BaseModel):
    applicant_id: str
    status: ApplicantStatus


class AssessmentSummary(BaseModel):
    score: int
    passed: bool
    attempts: int
    taken_at: str


class CardView(BaseModel):
    card_number: str
    training_balance: int
    purchase_deadline: str
    scheme: str


class ApplicantProfileView(BaseModel):
    applicant_id: str
    nik: str  # masked: 32**********0001
    full_name: str
    status: ApplicantStatus
    reasons: list[RejectionReason]
    province_code: str
    regency_code: str
    assessment: AssessmentSummary | None
    wave_id: str | None
    card: CardView | None
    incentives: list[dict[str, object]]
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, profile: Profile) -> ApplicantProfileView:
        record = profile.record
        assessment = record.assessment
        return cls(
            applicant_id=record.applicant_id,
            nik=record.nik_masked,
            full_name=profile.personal.full_name,
            status=record.status,
            reasons=list(record.reasons),
            province_code=record.province_code,
            regency_code=record.regency_code,
            assessment=AssessmentSummary(
                score=assessment.score,
                passed=assessment.passed,
                attempts=assessment.attempts,
                taken_at=iso(assessment.taken_at),
            )
            if assessment
            else None,
            wave_id=record.wave_id,
            card=CardView(
                card_number=record.card.card_number,
                training_balance=record.card.training_balance,
                purchase_deadline=iso(record.card.purchase_deadline),
                scheme=record.card.scheme,
            )
            if record.card
            else None,
            incentives=[],  # filled by the payout workflow
            created_at=iso(record.created_at),
            updated_at=iso(record.updated_at),
        )


class AssessmentResultView(BaseModel):
    score: int
    passed: bool
