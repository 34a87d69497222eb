"""Registration use cases: create a profile, show it, take the assessment, and the two
workflow steps (e-KYC, eligibility screening). No Lambda, no boto3: only the ports."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from prakerja.clock import Clock, today_in_jakarta
from prakerja.errors import FieldError, NotFound, ValidationFailed
from prakerja.personal_data import HashingKeyring, mask_name, mask_nik, mask_phone
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
    ProfileLocked,
    VerificationInProgress,
    WorkflowStarter,
)
from prakerja.registration.records import ApplicantRecord, AssessmentRecord, MaskedContact, PersonalData

# Whose checks may run again: a decided profile that is not in a wave and was never selected.
RESTARTABLE = frozenset({ApplicantStatus.VERIFIED, ApplicantStatus.REJECTED, ApplicantStatus.NOT_SELECTED})
# Why the checks ran again (the history's VERIFICATION_RESTARTED ``cause``).
CORRECTED = "CORRECTED"  # the applicant corrected the profile (PUT /v1/applicants/me)
REVERIFY = "REVERIFY"  # ops asked for it (an action), e.g. after the registry corrected a record
RETRY = "RETRY"  # the last run ended without a decision (the registry was down past its retries)


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


class NikCannotChange(ValidationFailed):
    def __init__(self) -> None:
        super().__init__(
            "NIK_CANNOT_CHANGE",
            "The NIK of a profile never changes; register the right NIK with another account if it was mistyped.",
            [FieldError("nik", "must be the profile's NIK", "NIK_CANNOT_CHANGE")],
        )


def email_key(email: str) -> str:
    """The e-mail as it is hashed for ops' search: case and surrounding spaces do not matter."""
    return email.strip().lower()


def masked_contact(personal: PersonalData) -> MaskedContact:
    return MaskedContact(
        full_name=mask_name(personal.full_name), phone=mask_phone(personal.phone), email=mask_email(personal.email)
    )


def mask_email(email: str) -> str:
    """The first letter of the mailbox and the domain stay: budi.s@mail.id -> b*****@mail.id."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'*' * max(len(local) - 1, 1)}@{domain}"


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
            masked=masked_contact(personal),
            email_hash=self._keyring.digests("email", email_key(request.email))[0],
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
                self._workflow.start(existing.applicant_id, existing.verification_attempt)
            raise
        self._workflow.start(applicant_id)
        return record

    def correct(self, account_id: str, request: RegistrationRequest) -> ApplicantRecord:
        """The applicant's corrected profile, checked again from the start (PUT /v1/applicants/me).
        The NIK never changes; the family card, name, birth date and the rest may."""
        record = self._own_record(account_id)
        if self._vault.open(record).nik != request.nik:
            raise NikCannotChange()
        personal = PersonalData(
            nik=request.nik,
            kk_number=request.kk_number,
            full_name=request.full_name,
            date_of_birth=request.date_of_birth,
            phone=request.phone,
            email=request.email,
        )
        kk_hash, *other_kk_hashes = self._keyring.digests("kk", request.kk_number)
        corrected = record.with_changes(
            personal_data=self._vault.seal(record.applicant_id, personal),
            masked=masked_contact(personal),
            email_hash=self._keyring.digests("email", email_key(request.email))[0],
            kk_hash=kk_hash,
            other_kk_hashes=tuple(other_kk_hashes),
            gender=request.gender,
            province_code=request.province_code,
            regency_code=request.regency_code,
            education_level=request.education_level,
            employment_status=request.employment_status,
        )
        return restart_verification(self._applicants, self._workflow, self._clock, record, corrected, CORRECTED)

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


class Reverification:
    """Ops' REVERIFY (an action on a case): the same checks again on the profile as it stands,
    for example after the civil registry corrected its record. Also how a run that ended without a
    decision is run again."""

    def __init__(self, applicants: ApplicantRepository, workflow: WorkflowStarter, clock: Clock) -> None:
        self._applicants = applicants
        self._workflow = workflow
        self._clock = clock

    def reverify(self, applicant_id: str) -> ApplicantRecord:
        record = self._applicants.get(applicant_id)
        if record is None:
            raise NotFound("APPLICANT_NOT_FOUND", "No applicant has this id.")
        cause = RETRY if record.status is ApplicantStatus.VERIFYING else REVERIFY
        return restart_verification(self._applicants, self._workflow, self._clock, record, record, cause)


def restart_verification(
    applicants: ApplicantRepository,
    workflow: WorkflowStarter,
    clock: Clock,
    current: ApplicantRecord,
    changed: ApplicantRecord,
    cause: str,
) -> ApplicantRecord:
    """``changed`` (the profile as corrected, or as it is) checked again by the registration
    workflow's next attempt: never a second profile (same applicant, same NIK guard), the family
    card's place given back (screening takes one again if the profile is VERIFIED), every reason
    decided anew. Refused while in a wave or once selected, and while a run is still going; a run
    that ended without a decision (VERIFYING, its execution over) may be restarted."""
    status = current.status
    if status is ApplicantStatus.VERIFYING:
        if workflow.is_running(current.applicant_id, current.verification_attempt):
            raise VerificationInProgress()
    elif status not in RESTARTABLE:
        raise ProfileLocked()
    attempt = current.verification_attempt + 1
    restarted = changed.with_changes(
        status=ApplicantStatus.VERIFYING,
        reasons=(),
        registry=None,
        verification_attempt=attempt,
        updated_at=clock.now(),
    )
    applicants.restart_verification(current, restarted, cause)
    workflow.start(current.applicant_id, attempt)
    return restarted


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
