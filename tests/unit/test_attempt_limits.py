"""Attempt limits: counted per kind and subject in fixed windows; refused with 429 and how
long to wait once a window's attempts are used up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from prakerja.limits import Attempt, AttemptLimit, AttemptLimiter, TooManyAttempts
from tests.fakes import FakeAttemptCounter, FixedClock

LIMITS = {kind: AttemptLimit(3, 3600) for kind in Attempt}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 23, 10, 15, tzinfo=UTC))  # 15 minutes into an hour window


@pytest.fixture
def counter() -> FakeAttemptCounter:
    return FakeAttemptCounter()


@pytest.fixture
def limiter(counter: FakeAttemptCounter, clock: FixedClock) -> AttemptLimiter:
    return AttemptLimiter(counter, clock, LIMITS)


def test_attempts_up_to_the_limit_pass_and_the_next_is_refused_with_the_wait(limiter: AttemptLimiter) -> None:
    for _ in range(3):
        limiter.attempt(Attempt.REGISTRATION, "account-1")
    with pytest.raises(TooManyAttempts) as refused:
        limiter.attempt(Attempt.REGISTRATION, "account-1")
    assert (refused.value.status, refused.value.code) == (429, "TOO_MANY_ATTEMPTS")
    assert refused.value.headers == {"Retry-After": str(45 * 60)}  # the rest of the window


def test_subjects_and_kinds_are_counted_apart(limiter: AttemptLimiter) -> None:
    for _ in range(3):
        limiter.attempt(Attempt.REGISTRATION, "account-1")
    limiter.attempt(Attempt.REGISTRATION, "account-2")
    limiter.attempt(Attempt.ASSESSMENT, "account-1")


def test_a_new_window_starts_afresh(limiter: AttemptLimiter, clock: FixedClock, counter: FakeAttemptCounter) -> None:
    for _ in range(3):
        limiter.attempt(Attempt.PAYOUT_ACCOUNT, "account-1")
    clock.advance(minutes=45)
    limiter.attempt(Attempt.PAYOUT_ACCOUNT, "account-1")
    # Each window's counter expires when the window ends (DynamoDB TTL).
    assert sorted(counter.expiry.values()) == [
        int(datetime(2026, 11, 23, 11, tzinfo=UTC).timestamp()),
        int(datetime(2026, 11, 23, 12, tzinfo=UTC).timestamp()),
    ]


def test_a_check_counts_nothing_and_refuses_once_the_misses_are_used_up(limiter: AttemptLimiter) -> None:
    for _ in range(10):
        limiter.ensure_allowed(Attempt.VOUCHER_MISS, "PLATFORM")  # lookups that hit: not counted
    for _ in range(3):
        limiter.attempt(Attempt.VOUCHER_MISS, "PLATFORM")
    with pytest.raises(TooManyAttempts):
        limiter.ensure_allowed(Attempt.VOUCHER_MISS, "PLATFORM")


def test_the_program_limits_allow_a_person_and_stop_a_script() -> None:
    limits = AttemptLimiter(FakeAttemptCounter(), FixedClock())
    for _ in range(5):  # a person's retries
        limits.attempt(Attempt.REGISTRATION, "account-1")
    with pytest.raises(TooManyAttempts):
        for _ in range(1000):  # a script's
            limits.attempt(Attempt.REGISTRATION, "account-1")
