"""The registration logic's view of the outside world, as small Protocols.

DynamoDB, KMS, Secrets Manager, Step Functions and the civil registry implement them in
``prakerja.adapters``; unit tests use the fakes in ``tests/fakes.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol

from prakerja.errors import Conflict
from prakerja.registration.eligibility import RegistryVerdict
from prakerja.registration.models import ApplicantStatus, ExclusionSource, RejectionReason
from prakerja.registration.records import ApplicantRecord, AssessmentRecord


class NikAlreadyRegistered(Conflict):
    def __init__(self) -> None:
        super().__init__("NIK_ALREADY_REGISTERED", "This NIK already has a profile.")


class ProfileExists(Conflict):
    def __init__(self) -> None:
        super().__init__("PROFILE_EXISTS", "This account already has a profile.")


class CivilRegistryUnavailable(Exception):
    """The registry did not answer; the workflow retries (error name matched in the ASL)."""


class ApplicantRepository(Protocol):
    def create(self, applicant: ApplicantRecord) -> None:
        """Store a new profile; one per NIK hash and one per account, race-free.
        Raises ProfileExists or NikAlreadyRegistered."""

    def get(self, applicant_id: str) -> ApplicantRecord | None: ...

    def find_by_account(self, account_id: str) -> ApplicantRecord | None: ...

    def record_assessment(self, applicant_id: str, assessment: AssessmentRecord) -> None: ...

    def record_registry_verdict(self, applicant_id: str, verdict: RegistryVerdict, at: datetime) -> None: ...

    def decide(
        self,
        applicant_id: str,
        status: ApplicantStatus,
        reasons: Iterable[RejectionReason],
        at: datetime,
        *,
        kk_hash: str | None = None,
        kk_limit: int = 0,
    ) -> ApplicantRecord:
        """Move a VERIFYING applicant to VERIFIED or REJECTED, once.

        With ``kk_hash`` the applicant also takes one of the family card's ``kk_limit``
        places in the same atomic write; if the card is full nothing is written and
        KkLimitReached is raised. A repeat of a decision already taken returns the record
        as it stands (retries of the workflow step are harmless)."""

    def kk_has_room(self, kk_hash: str, applicant_id: str, kk_limit: int) -> bool: ...


class KkLimitReached(Exception):
    pass


class ExclusionRepository(Protocol):
    def add(self, source: ExclusionSource, nik_hashes: Iterable[str], at: datetime) -> int: ...

    def sources_for(self, nik_hash: str) -> frozenset[str]:
        """Every list (exclusion sources plus RECIPIENT and BLACKLIST) naming this NIK."""


class PersonalDataCipher(Protocol):
    def encrypt(self, plaintext: bytes, context: dict[str, str]) -> str: ...

    def decrypt(self, ciphertext: str, context: dict[str, str]) -> bytes: ...


class CivilRegistry(Protocol):
    def verify(self, nik: str, full_name: str, date_of_birth: date) -> RegistryVerdict:
        """Raises CivilRegistryUnavailable when the registry cannot answer now."""


class WorkflowStarter(Protocol):
    def start(self, applicant_id: str) -> None:
        """Start the registration workflow for this applicant; starting twice is a no-op."""
