"""Registration use cases: create a profile, show it, take the assessment, and the two
workflow steps (e-KYC, eligibility screening). No Lambda, no boto3: only the ports."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from prakerja.clock import Clock, today_in_jakarta
from prakerja.errors import NotFound
from prakerja.personal_data import HashingKeyring, mask_nik
from prakerja.program import RegistrationRules
from prakerja.registration.assessment import AssessmentResult, load_assessment
from prakerja.registration.eligibility import RegistryVerdict, ScreeningFacts, screen
from prakerja.registration.models import (
    BLACKLIST,
    PREVIOUS_RECIPIENTS,
    ApplicantStatus,
    AssessmentSubmission,
    ExclusionSource,
    RegistrationRequest,
    RejectionReason,
)
from prakerja.registration.ports import (
    ApplicantRepository,
    CivilRegistry,
    ExclusionRepository,
    KkLimitReached,
    PersonalDataCipher,
    ProfileExists,
    WorkflowStarter,
)
from prakerja.registration.records import ApplicantRecord, AssessmentRecord, PersonalData

# Internal lists kept beside the agencies' exclusion lists, keyed by NIK hash as well.


def new_applicant_id() -> str:
    return str(uuid.uuid4())


class PersonalDataVault:
    """Encrypts and decrypts an applicant's personal data, bound to the applicant id so a
    ciphertext copied onto another record does not decrypt."""

    def __init__(self, cipher: PersonalDataCipher) -> None:
        self._cipher = cipher

    def seal(self, applicant_id: str, data: PersonalData) -> str:
        return self._cipher.encrypt(data.model_dump_json().encode(), {"applicant_id": applicant_id})

    def open(self, record: ApplicantRecord) -> PersonalData:
        plaintext = self._cipher.decrypt(record.personal_data, {"applicant_id": record.applicant_id})
        return PersonalData.model_validate_json(plaintext)


class ProfileNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("PROFILE_NOT_FOUND", "This account has no applicant profile yet.")


@dataclass(frozen=True)
class Profile:
    record: ApplicantRecord
    personal: PersonalData


class RegistrationService:
    def __init__(
        self,
        applicants: ApplicantRepository,
        vault: PersonalDataVault,
        keyring: HashingKeyring,
        workflow: WorkflowStarter,
        clock: Clock,
        new_id: Callable[[], str] = new_applicant_id,
    ) -> None:
        self._applicants = applicants
        self._vault = vault
        self._keyring = keyring
        self._workflow = workflow
        self._clock = clock
        self._new_id = new_id

    def register(self, account_id: str, request: RegistrationRequest) -> ApplicantRecord:
        applicant_id = self._new_id()
        now = self._clock.now()
        personal = PersonalData(
            nik=request.nik,
            kk_number=request.kk_number,
            full_name=request.full_name,
            date_of_birth=request.date_of_birth,
            phone=request.phone,
            email=request.email,
        )
        # Under every key: the NIK guard is claimed under each (a NIK registered before a key
        # rotation is still refused) and screening looks the family card up under each.
        nik_hash, *other_nik_hashes = self._keyring.digests("nik", request.nik)
        kk_hash, *other_kk_hashes = self._keyring.digests("kk", request.kk_number)
        record = ApplicantRecord(
            applicant_id=applicant_id,
            account_id=account_id,
            nik_hash=nik_hash,
            kk_hash=kk_hash,
            other_nik_hashes=tuple(other_nik_hashes),
            other_kk_hashes=tuple(other_kk_hashes),
            nik_masked=mask_nik(request.nik),
            personal_data=self._vault.seal(applicant_id, personal),
            gender=request.gender,
            province_code=request.province_code,
            regency_code=request.regency_code,
            education_level=request.education_level,
            employment_status=request.employment_status,
            status=ApplicantStatus.VERIFYING,
            created_at=now,
            updated_at=now,
        )
        try:
            self._applicants.create(record)
        except ProfileExists:
            # A start lost after the profile was stored (Step Functions unreachable) is
            # retried by the client's retry; starting is idempotent per applicant.
            existing = self._applicants.find_by_account(account_id)
            if existing is not None and existing.status is ApplicantStatus.VERIFYING:
                self._workflow.start(existing.applicant_id)
            raise
        self._workflow.start(applicant_id)
        return record

    def profile(self, account_id: str) -> Profile:
        record = self._own_record(account_id)
        return Profile(record=record, personal=self._vault.open(record))

    def submit_assessment(self, account_id: str, submission: AssessmentSubmission) -> AssessmentResult:
        record = self._own_record(account_id)
        result = load_assessment().score(submission.answers)
        attempts = (record.assessment.attempts if record.assessment else 0) + 1
        self._applicants.record_assessment(
            record.applicant_id,
            AssessmentRecord(score=result.score, passed=result.passed, attempts=attempts, taken_at=self._clock.now()),
        )
        return result

    def _own_record(self, account_id: str) -> ApplicantRecord:
        record = self._applicants.find_by_account(account_id)
        if record is None:
            raise ProfileNotFound()
        return record


class _WorkflowStep:
    """A registration workflow step over one applicant. Each is idempotent: Step Functions may retry."""

    def __init__(self, applicants: ApplicantRepository, vault: PersonalDataVault, clock: Clock) -> None:
        self._applicants = applicants
        self._vault = vault
        self._clock = clock

    def _existing(self, applicant_id: str) -> ApplicantRecord:
        record = self._applicants.get(applicant_id)
        if record is None:
            raise LookupError(f"applicant {applicant_id} does not exist")
        return record


class IdentityVerification(_WorkflowStep):
    """e-KYC: the NIK exists and the name and birth date match the civil registry."""

    def __init__(
        self, applicants: ApplicantRepository, vault: PersonalDataVault, clock: Clock, registry: CivilRegistry
    ) -> None:
        super().__init__(applicants, vault, clock)
        self._registry = registry

    def verify_identity(self, applicant_id: str) -> RegistryVerdict:
        record = self._existing(applicant_id)
        if record.status is not ApplicantStatus.VERIFYING and record.registry is not None:
            return record.registry
        personal = self._vault.open(record)
        verdict = self._registry.verify(personal.nik, personal.full_name, personal.date_of_birth)
        self._applicants.record_registry_verdict(applicant_id, verdict, self._clock.now())
        return verdict


class EligibilityScreening(_WorkflowStep):
    """Every layered rule; VERIFIED takes one of the family card's places atomically."""

    def __init__(
        self,
        applicants: ApplicantRepository,
        vault: PersonalDataVault,
        clock: Clock,
        exclusions: ExclusionRepository,
        rules: RegistrationRules,
    ) -> None:
        super().__init__(applicants, vault, clock)
        self._exclusions = exclusions
        self._rules = rules

    def screen_eligibility(self, applicant_id: str) -> ApplicantRecord:
        record = self._existing(applicant_id)
        if record.status is not ApplicantStatus.VERIFYING:
            return record
        if record.registry is None:
            raise RuntimeError("screening before the identity check")
        personal = self._vault.open(record)
        listed = self._exclusions.sources_for(*record.nik_hashes)
        facts = ScreeningFacts(
            registry=record.registry,
            date_of_birth=personal.date_of_birth,
            today=today_in_jakarta(self._clock),
            employment_status=record.employment_status,
            exclusion_sources=frozenset(ExclusionSource(s) for s in listed if s in ExclusionSource.__members__),
            previous_recipient=PREVIOUS_RECIPIENTS in listed,
            blacklisted=BLACKLIST in listed,
            kk_limit_reached=False,
            other_assistance_rule=self._rules.exclude_other_assistance,
        )
        now = self._clock.now()
        reasons = screen(facts)
        limit = self._rules.kk_limit
        if reasons:
            # Report the family-card limit too, without taking a place for a rejected applicant.
            if not self._applicants.kk_has_room(record.kk_hashes, applicant_id, limit):
                reasons = screen(_with_kk_limit(facts))
            return self._applicants.decide(applicant_id, ApplicantStatus.REJECTED, reasons, now)
        try:
            return self._applicants.decide(
                applicant_id, ApplicantStatus.VERIFIED, [], now, kk_hashes=record.kk_hashes, kk_limit=limit
            )
        except KkLimitReached:
            return self._applicants.decide(
                applicant_id, ApplicantStatus.REJECTED, [RejectionReason.KK_LIMIT_REACHED], now
            )


def _with_kk_limit(facts: ScreeningFacts) -> ScreeningFacts:
    return replace(facts, kk_limit_reached=True)
