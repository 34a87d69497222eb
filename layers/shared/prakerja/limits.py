"""Attempt limits on the calls whose answers an attacker would like to ask for many times.

- Registration answers NIK_ALREADY_REGISTERED: repeated, it tells whether a NIK is registered.
- Linking a payout account asks the partner whether a number belongs to the applicant's
  name: repeated, it tells whose accounts numbers are.
- The assessment's answers could be searched by submitting again and again.
- Filing complaints: each is a ticket in the ops queue and a KMS call; a script filing them
  by the thousand would bury the real ones.
- A platform looking up voucher codes that do not exist is guessing (codes carry 80 random
  bits, so only a miss rate says so).

Counted per account (or per platform) in fixed windows. The per-IP limits of the WAF and the
stage and route throttling of API Gateway come first on AWS (infra); these are the limits the
handlers themselves enforce, so they hold locally too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from prakerja.clock import Clock
from prakerja.errors import DomainError

HOUR = 3600


class Attempt(StrEnum):
    REGISTRATION = "registration"
    PAYOUT_ACCOUNT = "payout-account"
    ASSESSMENT = "assessment"
    VOUCHER_MISS = "voucher-miss"
    CORRECTION = "correction"  # each one asks the civil registry again
    COMPLAINT = "complaint"


@dataclass(frozen=True)
class AttemptLimit:
    attempts: int
    window_seconds: int


# A person registers once, links an account or two and takes the test a few times; a platform
# mistypes a code now and then. Ten times that is still a person, not a script.
ATTEMPT_LIMITS: dict[Attempt, AttemptLimit] = {
    Attempt.REGISTRATION: AttemptLimit(10, HOUR),
    Attempt.PAYOUT_ACCOUNT: AttemptLimit(10, HOUR),
    Attempt.ASSESSMENT: AttemptLimit(20, HOUR),
    Attempt.VOUCHER_MISS: AttemptLimit(100, HOUR),
    Attempt.CORRECTION: AttemptLimit(10, HOUR),
    Attempt.COMPLAINT: AttemptLimit(10, HOUR),
}


class TooManyAttempts(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__("TOO_MANY_ATTEMPTS", f"Too many attempts; try again in {retry_after} seconds.")
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class AttemptCounter(Protocol):
    def add(self, key: str, limit: int, expires_at: int) -> bool:
        """Counts one attempt under ``key`` unless ``limit`` were reached: True if counted."""
        ...

    def reached(self, key: str, limit: int) -> bool:
        """Whether ``limit`` attempts were counted under ``key``."""
        ...


class AttemptLimiter:
    def __init__(
        self, counter: AttemptCounter, clock: Clock, limits: dict[Attempt, AttemptLimit] = ATTEMPT_LIMITS
    ) -> None:
        self._counter = counter
        self._clock = clock
        self._limits = limits

    def attempt(self, kind: Attempt, subject: str) -> None:
        """Counts an attempt; TooManyAttempts once the window's limit is used up."""
        limit, key, window_end = self._window(kind, subject)
        if not self._counter.add(key, limit.attempts, window_end):
            raise TooManyAttempts(self._retry_after(window_end))

    def ensure_allowed(self, kind: Attempt, subject: str) -> None:
        """Refuses without counting once the window's limit is used up: for limits that count
        only failures (a miss), so that a blocked caller cannot tell a hit from a miss."""
        limit, key, window_end = self._window(kind, subject)
        if self._counter.reached(key, limit.attempts):
            raise TooManyAttempts(self._retry_after(window_end))

    def _window(self, kind: Attempt, subject: str) -> tuple[AttemptLimit, str, int]:
        limit = self._limits[kind]
        now = int(self._clock.now().timestamp())
        start = now - now % limit.window_seconds
        return limit, f"{kind}#{subject}#{start}", start + limit.window_seconds

    def _retry_after(self, window_end: int) -> int:
        return max(1, window_end - int(self._clock.now().timestamp()))
