"""EventBridge schedule expressions: when a rule fires in an interval of program time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from localcloud.schedules import Cron, Rate, UnsupportedSchedule, parse_schedule

ANCHOR = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def first_fire(expression: str, after: str, until: str) -> datetime | None:
    return parse_schedule(expression, rate_anchor=ANCHOR).first_fire(at(after), at(until))


def test_a_daily_cron_fires_when_the_interval_crosses_its_time():
    daily = "cron(0 17 * * ? *)"  # what CDK emits for Schedule.cron(minute="0", hour="17")
    assert first_fire(daily, "2026-03-02T16:59", "2026-03-02T17:00") == at("2026-03-02T17:00")
    assert first_fire(daily, "2026-03-02T12:00", "2026-03-02T16:59") is None  # not yet
    assert first_fire(daily, "2026-03-02T17:00", "2026-03-02T17:30") is None  # the interval is open at its start
    assert first_fire(daily, "2026-03-02T17:01", "2026-03-03T16:59") is None  # just missed twice
    # several days skipped: the first of the missed fire times (the job runs once)
    assert first_fire(daily, "2026-03-02T18:00", "2026-03-09T18:00") == at("2026-03-03T17:00")


def test_cron_lists_ranges_and_steps_in_minutes_and_hours():
    every_quarter = "cron(0/15 8-10 * * ? *)"
    assert first_fire(every_quarter, "2026-03-02T08:01", "2026-03-02T08:20") == at("2026-03-02T08:15")
    assert first_fire(every_quarter, "2026-03-02T10:46", "2026-03-03T07:59") is None
    assert first_fire(every_quarter, "2026-03-02T10:46", "2026-03-03T08:00") == at("2026-03-03T08:00")
    listed = "cron(5,35 */6 * * ? *)"  # 00:05, 00:35, 06:05, 06:35, 12:05...
    assert first_fire(listed, "2026-03-02T00:06", "2026-03-02T12:00") == at("2026-03-02T00:35")
    assert first_fire(listed, "2026-03-02T00:36", "2026-03-02T06:04") is None
    assert first_fire("cron(* * * * ? *)", "2026-03-02T00:00:30", "2026-03-02T00:01") == at("2026-03-02T00:01")


def test_cron_days_months_and_years():
    weekdays = "cron(0 1 ? * MON-FRI *)"  # CDK: Schedule.cron(minute="0", hour="1", week_day="MON-FRI")
    assert first_fire(weekdays, "2026-03-07T00:00", "2026-03-08T23:59") is None  # Saturday and Sunday
    assert first_fire(weekdays, "2026-03-07T00:00", "2026-03-09T01:00") == at("2026-03-09T01:00")  # Monday
    assert first_fire("cron(0 1 ? * 1 *)", "2026-03-02T00:00", "2026-03-09T00:00") == at("2026-03-08T01:00")  # 1 = SUN
    monthly = "cron(30 0 1 JAN,JUL ? *)"
    assert first_fire(monthly, "2026-03-02T00:00", "2026-06-30T23:59") is None
    assert first_fire(monthly, "2026-03-02T00:00", "2027-01-01T00:30") == at("2026-07-01T00:30")
    assert first_fire("cron(0 0 29 2 ? 2028)", "2026-01-01T00:00", "2036-01-01T00:00") == at("2028-02-29T00:00")
    assert first_fire("cron(0 0 31 2 ? *)", "2026-01-01T00:00", "2036-01-01T00:00") is None  # never


def test_rate_fires_every_period_from_its_anchor():
    assert parse_schedule("rate(1 day)", rate_anchor=ANCHOR) == Rate(timedelta(days=1), ANCHOR)
    assert parse_schedule("rate(5 minutes)", rate_anchor=ANCHOR) == Rate(timedelta(minutes=5), ANCHOR)
    assert parse_schedule("rate(2 hours)", rate_anchor=ANCHOR) == Rate(timedelta(hours=2), ANCHOR)
    assert first_fire("rate(1 day)", "2026-03-02T09:30", "2026-03-03T09:29") is None
    assert first_fire("rate(1 day)", "2026-03-02T09:30", "2026-03-03T09:30") == at("2026-03-03T09:30")
    # a short interval that happens to cross a fire time fires; ten days skipped fire once
    assert first_fire("rate(1 hour)", "2026-03-02T12:29", "2026-03-02T12:31") == at("2026-03-02T12:30")
    assert first_fire("rate(1 hour)", "2026-03-02T12:31", "2026-03-12T12:31") == at("2026-03-02T13:30")
    assert first_fire("rate(7 days)", "2026-03-01T00:00", "2026-03-09T09:29") is None  # before the anchor too


def test_whitespace_and_case_as_aws_accepts_them():
    cron = parse_schedule(" cron(0 17 ? * mon *) ", rate_anchor=ANCHOR)
    assert isinstance(cron, Cron)
    assert cron.days_of_week == frozenset({2})


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 17 L * ? *)",  # last day of the month
        "cron(0 17 15W * ? *)",  # nearest weekday
        "cron(0 17 ? * 6#3 *)",  # third Friday
        "cron(0 17 ? * 6L *)",
        "cron(0 17 * * *)",  # five fields: Unix cron, not AWS
        "cron(0 17 1 * MON *)",  # both days restricted: AWS refuses it
        "cron(0 24 * * ? *)",
        "cron(30-10 * * * ? *)",
        "rate(0 minutes)",
        "rate(1 week)",
        "at(2026-03-02T17:00:00)",  # EventBridge Scheduler, not a rule
    ],
)
def test_what_is_not_supported_says_so(expression):
    with pytest.raises(UnsupportedSchedule):
        parse_schedule(expression, rate_anchor=ANCHOR)
