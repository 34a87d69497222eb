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
from prakerja.registration.records import ApplicantRecord, AssessmentRecord, HistoryEvent


class NikAlreadyRegistered(Conflict):
    def __init__(self) -> None:
        super().__init__("NIK_ALREADY_REGISTERED", "This NIK already has a profile.")


class ProfileExists(Conflict):
    def __init__(self) -> None:
        super().__init__("PROFILE_EXISTS", "This account already has a profile.")


class ProfileLocked(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "PROFILE_LOCKED",
            "The profile cannot change while its holder is in a wave or once selected.",
        )


class VerificationInProgress(Conflict):
    def __init__(self) -> None:
        super().__init__("VERIFICATION_IN_PROGRESS", "The checks of this profile are running; wait for their result.")


class ProfileChanged(Conflict):
    def __init__(self) -> None:
        super().__init__("PROFILE_CHANGED", "The profile changed meanwhile; read it again and retry.")


class CivilRegistryUnavailable(Exception):
    """The registry did not answer; the workflow retries (error name matched in the ASL)."""


class ApplicantRepository(Protocol):
    def create(self, applicant: ApplicantRecord) -> None:
        """Store a new profile; one per account and one per NIK, race-free: the NIK is claimed
        under each of ``applicant.nik_hashes`` (every key of the hashing keyring) in the same
        atomic write, so a claim made under any of those keys refuses it.
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
        kk_hashes: tuple[str, ...] = (),
        kk_limit: int = 0,
    ) -> ApplicantRecord:
        """Move a VERIFYING applicant to VERIFIED or REJECTED, once.

        With ``kk_hashes`` (the family card's number under each key of the keyring) the
        applicant also takes one of the card's ``kk_limit`` places in the same atomic write;
        the places are counted together whichever key they were taken under. If the card is
        full nothing is written and KkLimitReached is raised. A repeat of a decision already
        taken returns the record as it stands (retries of the workflow step are harmless)."""

    def kk_has_room(self, kk_hashes: tuple[str, ...], applicant_id: str, kk_limit: int) -> bool:
        """Whether the card (under any of ``kk_hashes``) has a place left, or holds this one's."""

    def restart_verification(self, current: ApplicantRecord, restarted: ApplicantRecord, cause: str) -> None:
        """Replace ``current`` by ``restarted`` (VERIFYING, the next attempt, the profile as
        corrected) in one atomic write, only if the stored profile is still ``current`` (same status
        and attempt; else ProfileChanged); the family-card place ``current`` held under its card is
        given back in the same write, and the restart is in its history with ``cause``."""

    def history(self, applicant_id: str) -> list[HistoryEvent]:
        """The profile's recorded events (registration, each identity check and decision, each
        restart), oldest first."""


class KkLimitReached(Exception):
    pass


class ExclusionRepository(Protocol):
    def add(self, source: ExclusionSource, nik_hashes: Iterable[str], at: datetime) -> int: ...

    def remove(self, source: ExclusionSource, nik_hashes: Iterable[str]) -> int:
        """The hashes off that list (those not on it are no-ops); how many distinct hashes."""
        ...

    def sources_for(self, *nik_hashes: str) -> frozenset[str]:
        """Every list (exclusion sources plus RECIPIENT and BLACKLIST) naming this NIK under
        any of these digests (one NIK under each key of the keyring)."""


class PersonalDataCipher(Protocol):
    def encrypt(self, plaintext: bytes, context: dict[str, str]) -> str: ...

    def decrypt(self, ciphertext: str, context: dict[str, str]) -> bytes: ...


class CivilRegistry(Protocol):
    def verify(self, nik: str, full_name: str, date_of_birth: date) -> RegistryVerdict:
        """Raises CivilRegistryUnavailable when the registry cannot answer now."""


class WorkflowStarter(Protocol):
    def start(self, applicant_id: str, attempt: int = 1) -> None:
        """Start the registration workflow's ``attempt`` for this applicant; starting the same
        attempt twice is a no-op."""

    def is_running(self, applicant_id: str, attempt: int) -> bool:
        """Whether that attempt's execution is still running (False once it ended, or if it
        never started)."""
