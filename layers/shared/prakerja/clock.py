"""The application clock. Deadlines and ages are computed against it, never against
``datetime.now()`` directly, so that tests and the local runtime can move time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol

WIB = timezone(timedelta(hours=7), "WIB")  # program dates (birthdays, deadlines) are Jakarta dates


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def today_in_jakarta(clock: Clock) -> date:
    return clock.now().astimezone(WIB).date()


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with a Z, as the API contract writes times."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
