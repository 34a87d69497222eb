"""EventBridge schedule expressions, for firing the template's scheduled rules locally.

moto stores EventBridge rules but has no scheduler: nothing ever fires a `ScheduleExpression`.
The runtime therefore fires them itself, and only when the application clock is moved
(`POST /_local/clock`): a rule is due when its schedule fires at least once in the interval
(old program time, new program time]. Real time passing does not fire anything locally.

Supported, as CDK's `events.Schedule` emits them (times are UTC, as on AWS):
- `rate(N minute|minutes|hour|hours|day|days)`, counted from an anchor (on AWS, the rule's
  creation; locally, the runtime's start);
- `cron(minutes hours day-of-month month day-of-week year)` with `*`, `?`, numbers, names
  (JAN-DEC, SUN-SAT), comma lists, ranges and `/` steps. AWS's day-of-week counts 1 = SUN.
Anything else (`L`, `W`, `#`...) raises UnsupportedSchedule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}
_WEEKDAYS = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}


class UnsupportedSchedule(ValueError):
    """An expression (or a part of one) this module cannot evaluate."""


class Schedule(Protocol):
    def first_fire(self, after: datetime, until: datetime) -> datetime | None:
        """The first fire time in (after, until], or None."""
        ...


@dataclass(frozen=True)
class Rate:
    period: timedelta
    anchor: datetime

    def first_fire(self, after: datetime, until: datetime) -> datetime | None:
        # Fire times are anchor + k * period, k >= 1.
        k = max(1, (after - self.anchor) // self.period + 1)
        fire = self.anchor + k * self.period
        return fire if after < fire <= until else None


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None  # None: any day ("*" or "?")
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # AWS numbering, 1 = Sunday; None: any day
    years: frozenset[int] | None

    def first_fire(self, after: datetime, until: datetime) -> datetime | None:
        # Day by day (at most ~3650 days for the runtime's 10-year cap), then the first
        # (hour, minute) of a matching day that lies in the interval.
        after, until = after.astimezone(UTC), until.astimezone(UTC)
        day = after.date()
        while day <= until.date():
            if self._matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        fire = datetime.combine(day, time(hour, minute), UTC)
                        if fire > until:
                            return None
                        if fire > after:
                            return fire
            day += timedelta(days=1)
        return None

    def _matches(self, day: date) -> bool:
        aws_weekday = (day.weekday() + 1) % 7 + 1  # Python: Monday = 0; AWS: Sunday = 1
        return (
            day.month in self.months
            and (self.years is None or day.year in self.years)
            and (self.days_of_month is None or day.day in self.days_of_month)
            and (self.days_of_week is None or aws_weekday in self.days_of_week)
        )


def parse_schedule(expression: str, *, rate_anchor: datetime) -> Schedule:
    text = expression.strip()
    if rate := _RATE.match(text):
        count, unit = int(rate.group(1)), rate.group(2).removesuffix("s")
        if count < 1:
            raise UnsupportedSchedule(f"{expression!r}: the rate must be at least 1")
        return Rate(timedelta(seconds=count * _UNITS[unit]), rate_anchor)
    cron = _CRON.match(text)
    if cron is None:
        raise UnsupportedSchedule(f"{expression!r}: neither rate(...) nor cron(...)")
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise UnsupportedSchedule(f"{expression!r}: cron needs 6 fields")
    minutes, hours, dom, month, dow, year = fields
    try:
        days_of_month = _field(dom, 1, 31)
        days_of_week = _field(dow, 1, 7, _WEEKDAYS)
        if days_of_month is not None and days_of_week is not None:
            raise UnsupportedSchedule(f"{expression!r}: AWS needs `?` in day-of-month or day-of-week")
        return Cron(
            minutes=_field(minutes, 0, 59) or frozenset(range(60)),
            hours=_field(hours, 0, 23) or frozenset(range(24)),
            days_of_month=days_of_month,
            months=_field(month, 1, 12, _MONTHS) or frozenset(range(1, 13)),
            days_of_week=days_of_week,
            years=_field(year, 1970, 2199),
        )
    except UnsupportedSchedule as error:
        raise UnsupportedSchedule(f"{expression!r}: {error}") from None


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int] | None:
    """The values a cron field allows, or None for "any" (`*` or `?`)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = _number(step_text, 1, high, None) if step_text else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(first, low, high, names), _number(last, low, high, names)
        else:
            start = _number(base, low, high, names)
            end = high if step_text else start  # "5/15": from 5, every 15
        if start > end:
            raise UnsupportedSchedule(f"range {part!r} runs backwards")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _number(text: str, low: int, high: int, names: dict[str, int] | None) -> int:
    upper = text.upper()
    if names is not None and upper in names:
        return names[upper]
    if not text.isdigit() or not low <= int(text) <= high:
        raise UnsupportedSchedule(f"{text!r} is not supported here (expected {low}-{high})")
    return int(text)
