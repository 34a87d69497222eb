"""The waves logic's view of storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from prakerja.errors import Conflict, NotFound, ValidationFailed
from prakerja.registration.records import ApplicantRecord
from prakerja.waves.models import Wave, WaveReport


class WaveNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("WAVE_NOT_FOUND", "No such wave.")


class JoinRefused(Exception):
    """The atomic join did not happen: the applicant's or the wave's state changed."""


class WaveNotOpen(Conflict):
    def __init__(self) -> None:
        super().__init__("WAVE_NOT_OPEN", "The wave is no longer open.")


class WaveRepository(Protocol):
    def create(self, wave: Wave) -> None: ...

    def get(self, wave_id: str) -> Wave | None: ...

    def list_waves(self, limit: int, next_token: str | None) -> tuple[list[Wave], str | None]:
        """All waves, newest first, paginated with an opaque token."""

    def join(self, wave: Wave, applicant: ApplicantRecord, at: datetime) -> None:
        """Atomically: the applicant (VERIFIED or NOT_SELECTED, assessment passed) becomes
        IN_WAVE of this wave, is recorded as a participant (with its NIK hash, for the
        re-screening at close) and counted, while the wave is OPEN. Raises JoinRefused when
        any condition fails; nothing is written then."""

    def joined_by_province(self, wave_id: str) -> dict[str, int]: ...

    def start_selection(self, wave_id: str, seed: str, at: datetime) -> None:
        """OPEN -> SELECTING with the revealed seed, once. Raises WaveNotOpen otherwise."""

    def record_execution(self, wave_id: str, execution_arn: str) -> None: ...

    def publish_result(self, wave_id: str, report: WaveReport) -> None:
        """SELECTING -> SELECTED with the report, once; a repeat leaves the first report."""


class SeedMismatch(ValidationFailed):
    def __init__(self) -> None:
        super().__init__("SEED_MISMATCH", "The seed does not hash to the wave's seed_commitment.")


class SelectionStarter(Protocol):
    def start(self, wave_id: str) -> str:
        """Starts the wave's selection workflow, once (named after the wave); the execution ARN."""
