"""Wave use cases: ops create waves; applicants list open ones and join one at a time."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable

from prakerja.clock import Clock
from prakerja.errors import Conflict
from prakerja.registration.models import ApplicantStatus
from prakerja.registration.ports import ApplicantRepository
from prakerja.registration.records import ApplicantRecord
from prakerja.registration.service import ProfileNotFound
from prakerja.waves.models import CloseRequest, Wave, WaveRequest, WaveStatus, seed_matches
from prakerja.waves.ports import (
    JoinRefused,
    SeedMismatch,
    SelectionStarter,
    WaveNotFound,
    WaveNotOpen,
    WaveRepository,
)

_VERIFIED_STATES = {ApplicantStatus.VERIFIED, ApplicantStatus.NOT_SELECTED}
_RECIPIENT_STATES = {ApplicantStatus.SELECTED, ApplicantStatus.REVOKED}


def new_wave_id() -> str:
    return f"wave-{uuid.uuid4().hex[:12]}"


def _join_refusal(applicant: ApplicantRecord, wave: Wave, clock: Clock) -> Conflict | None:
    """Why this applicant cannot join this wave now, in the order API.md lists the codes."""
    if applicant.status is ApplicantStatus.IN_WAVE:
        return Conflict("ALREADY_IN_WAVE", "You are already in a wave; one at a time.")
    if applicant.status in _RECIPIENT_STATES:
        return Conflict("ALREADY_RECIPIENT", "The card is once in a lifetime.")
    if applicant.status not in _VERIFIED_STATES:
        return Conflict("NOT_VERIFIED", "Only verified applicants can join a wave.")
    if applicant.assessment is None or not applicant.assessment.passed:
        return Conflict("ASSESSMENT_REQUIRED", "Pass the basic assessment first.")
    if not wave.is_open_at(clock.now()):
        return Conflict("WAVE_CLOSED", "This wave is not open for joining.")
    return None


class WaveService:
    def __init__(
        self,
        waves: WaveRepository,
        clock: Clock,
        *,
        applicants: ApplicantRepository | None = None,
        selection: SelectionStarter | None = None,
        new_id: Callable[[], str] = new_wave_id,
    ) -> None:
        """``applicants`` only where applicants join: ops manage waves without profile access;
        ``selection`` only where ops close waves."""
        self._waves = waves
        self._applicants = applicants
        self._selection = selection
        self._clock = clock
        self._new_id = new_id

    def create(self, request: WaveRequest) -> Wave:
        wave = Wave(
            wave_id=self._new_id(),
            name=request.name,
            opens_at=request.opens_at,
            closes_at=request.closes_at,
            quota_total=request.quota_total,
            quotas=dict(request.quotas),
            scheme=request.scheme,
            seed_commitment=request.seed_commitment,
            status=WaveStatus.OPEN,
            created_at=self._clock.now(),
        )
        self._waves.create(wave)
        return wave

    def waves(self, limit: int, next_token: str | None) -> tuple[list[Wave], str | None]:
        """Every wave, newest first (ops)."""
        return self._waves.list_waves(limit, next_token)

    def open_waves(self, limit: int, next_token: str | None) -> tuple[list[Wave], str | None]:
        waves, token = self._waves.list_waves(limit, next_token)
        now = self._clock.now()
        return [w for w in waves if w.is_open_at(now)], token

    def get(self, wave_id: str) -> Wave:
        wave = self._waves.get(wave_id)
        if wave is None:
            raise WaveNotFound()
        return wave

    def joined_by_province(self, wave_id: str) -> dict[str, int]:
        return self._waves.joined_by_province(wave_id)

    def join(self, account_id: str, wave_id: str) -> Wave:
        if self._applicants is None:
            raise RuntimeError("joining needs the applicants repository")
        applicant = self._applicants.find_by_account(account_id)
        if applicant is None:
            raise ProfileNotFound()
        wave = self.get(wave_id)
        refusal = _join_refusal(applicant, wave, self._clock)
        if refusal is not None:
            raise refusal
        try:
            self._waves.join(wave, applicant, self._clock.now())
        except JoinRefused:
            # Something changed between the read and the atomic write (a parallel join, the
            # wave closing): answer with what holds now.
            current = self._applicants.get(applicant.applicant_id)
            refusal = _join_refusal(current, self.get(wave_id), self._clock) if current else None
            raise refusal or Conflict("JOIN_CONFLICT", "Your state changed meanwhile; try again.") from None
        return wave

    def close(self, wave_id: str, request: CloseRequest) -> str:
        """Reveals the seed, stops joins and starts the selection workflow; its execution ARN.

        Repeating the close of a wave still SELECTING answers with the same execution (the
        first close may have stopped between the two writes)."""
        if self._selection is None:
            raise RuntimeError("closing needs the selection workflow")
        wave = self.get(wave_id)
        if not seed_matches(request.seed, wave.seed_commitment):
            raise SeedMismatch()
        if wave.status is WaveStatus.OPEN:
            with contextlib.suppress(WaveNotOpen):  # a parallel close won: go on with its state
                self._waves.start_selection(wave_id, request.seed, self._clock.now())
            wave = self.get(wave_id)
        if wave.status is not WaveStatus.SELECTING:
            raise WaveNotOpen()
        execution_arn = self._selection.start(wave_id)
        if wave.execution_arn != execution_arn:
            self._waves.record_execution(wave_id, execution_arn)
        return execution_arn
