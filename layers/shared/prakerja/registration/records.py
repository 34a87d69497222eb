"""What is stored about an applicant. Personal data only ever appears here encrypted
(``personal_data``) or as keyed hashes; the clear fields are codes and dates the program
reports on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from prakerja.registration.eligibility import RegistryVerdict
from prakerja.registration.models import (
    ApplicantStatus,
    EducationLevel,
    EmploymentStatus,
    Gender,
    RejectionReason,
)
from prakerja.selection.cards import CardRecord


class PersonalData(BaseModel):
    """The encrypted part of a profile (one KMS ciphertext per applicant)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    nik: str
    kk_number: str
    full_name: str
    date_of_birth: date
    phone: str
    email: str


@dataclass(frozen=True)
class MaskedContact:
    full_name: str
    phone: str
    email: str


@dataclass(frozen=True)
class AssessmentRecord:
    score: int
    passed: bool
    attempts: int
    taken_at: datetime


@dataclass(frozen=True)
class ApplicantRecord:
    applicant_id: str
    account_id: str
    nik_hash: str  # under the keyring's current key at registration: the profile's NIK identity
    kk_hash: str
    nik_masked: str
    personal_data: str  # ciphertext of PersonalData, bound to applicant_id
    gender: Gender
    province_code: str
    regency_code: str
    education_level: EducationLevel
    employment_status: EmploymentStatus
    status: ApplicantStatus
    created_at: datetime
    updated_at: datetime
    reasons: tuple[RejectionReason, ...] = ()
    registry: RegistryVerdict | None = None
    assessment: AssessmentRecord | None = None
    wave_id: str | None = None
    card: CardRecord | None = None  # issued by the selection workflow
    extra: dict[str, object] = field(default_factory=dict)
    # The same numbers under the keyring's other keys (a key rotation in progress): the workflow
    # steps cannot hash (they never read the key), so lookups use these.
    other_nik_hashes: tuple[str, ...] = ()
    other_kk_hashes: tuple[str, ...] = ()
    # The registration workflow's run: 1 at registration, one more each time the checks run again
    # (a correction, ops' REVERIFY, a retry after a failed run). Its execution is named after it.
    verification_attempt: int = 1
    # What ops see of the profile (the case view), masked when the profile was written; and the
    # e-mail's keyed hash, which ops search by. Absent on profiles written before they existed.
    masked: MaskedContact | None = None
    email_hash: str | None = None

    @property
    def nik_hashes(self) -> tuple[str, ...]:
        """The NIK under every key known when it was registered (or re-hashed), its own first."""
        return (self.nik_hash, *self.other_nik_hashes)

    @property
    def kk_hashes(self) -> tuple[str, ...]:
        return (self.kk_hash, *self.other_kk_hashes)

    def with_changes(self, **changes: object) -> ApplicantRecord:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class HistoryEvent:
    """Something that happened to a profile, as the case view lists it: a kind (REGISTERED,
    IDENTITY_CHECKED, DECIDED, VERIFICATION_RESTARTED...), when, and codes only (never personal
    data): a verdict, a status, reasons, a cause, an attempt."""

    at: datetime
    kind: str
    details: dict[str, object] = field(default_factory=dict)
