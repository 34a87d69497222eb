"""The application clock. Deadlines and ages are computed against it, never against
``datetime.now()`` directly, so that tests and the local runtime can move time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Protocol

from pydantic import AwareDatetime, BeforeValidator


def _not_a_number(value: object) -> object:
    # Pydantic's lax mode reads a number as seconds since 1970: `{"date": 0}` meant
    # 1970-01-01 (found by the API fuzzing), and so did a query string's `?since=0.5`.
    # Request dates are ISO 8601 strings.
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise ValueError("must be an ISO 8601 string")
    return value


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


IsoDate = Annotated[date, BeforeValidator(_not_a_number)]
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_not_a_number)]

WIB = timezone(timedelta(hours=7), "WIB")  # program dates (birthdays, deadlines) are Jakarta dates


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Program time: the wall clock, moved forward by the simulated offset when the local
    runtime has advanced time (``POST /_local/clock``). On AWS the offset is always zero."""

    def now(self) -> datetime:
        return datetime.now(UTC) + _simulated_offset


class WallClock:
    """Real time, never simulated: for transport checks such as a partner signature's age."""

    def now(self) -> datetime:
        return datetime.now(UTC)


_simulated_offset = timedelta(0)


def simulate_offset(offset: timedelta) -> None:
    """Local runtime only: the worker sets the offset it was handed with each invocation."""
    global _simulated_offset  # noqa: PLW0603 - one process-wide program time, by design
    _simulated_offset = offset


def today_in_jakarta(clock: Clock) -> date:
    return clock.now().astimezone(WIB).date()


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with a Z, as the API contract writes times."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
