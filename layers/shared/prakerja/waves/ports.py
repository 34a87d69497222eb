"""The waves logic's view of storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from prakerja.errors import Conflict, NotFound
from prakerja.waves.models import Wave


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

    def join(self, wave: Wave, applicant_id: str, province_code: str, at: datetime) -> None:
        """Atomically: the applicant (VERIFIED or NOT_SELECTED, assessment passed) becomes
        IN_WAVE of this wave, is recorded as a participant and counted, while the wave is
        OPEN. Raises JoinRefused when any condition fails; nothing is written then."""

    def joined_by_province(self, wave_id: str) -> dict[str, int]: ...

    def start_selection(self, wave_id: str, seed: str, at: datetime) -> None:
        """OPEN -> SELECTING with the revealed seed, once. Raises WaveNotOpen otherwise."""

    def record_execution(self, wave_id: str, execution_arn: str) -> None: ...
