"""tools/ops.py's formatting and history summary, and its command line, without a runtime."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tools.ops import Target, main, parser, rupiah, shorten, summarize_history, table, took, when

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_table_aligns_columns_and_right_aligns_numbers() -> None:
    shown = table(("WAVE", "QUOTA", "NOTE"), [("wave-a", 1000, None), ("wave-bb", 5, "ok")])
    assert shown.splitlines() == [
        "WAVE     QUOTA  NOTE",
        "wave-a   1,000  -",
        "wave-bb      5  ok",
    ]
    assert table(("A",), []) == "A"


def test_money_times_and_durations_read_plainly() -> None:
    assert (rupiah(3_500_000), rupiah(0), rupiah(-600_000)) == ("Rp 3,500,000", "Rp 0", "-Rp 600,000")
    assert when("2026-11-22T10:00:00Z") == "2026-11-22 10:00:00Z"
    assert when(datetime(2026, 11, 22, 17, 0, tzinfo=timezone(timedelta(hours=7)))) == "2026-11-22 10:00:00Z"
    assert when(None) is None
    assert took(T0, T0 + timedelta(seconds=4.23)) == "4.2s"
    assert took(T0, T0 + timedelta(minutes=3, seconds=5)) == "3m05s"
    assert took(T0, T0 + timedelta(hours=1, minutes=2, seconds=9)) == "1h02m"
    assert took(T0, None) is None
    assert shorten("a  b\n c") == "a b c"
    assert shorten("x" * 200, 10) == "xxxxxxx..."


def _event(n: int, kind: str, previous: int | None = None, seconds: int = 0, **details: object) -> dict[str, object]:
    event: dict[str, object] = {"id": n, "type": kind, "timestamp": T0 + timedelta(seconds=seconds), **details}
    if previous is not None:
        event["previousEventId"] = previous
    return event


def test_history_summary_counts_states_and_places_each_failure_in_its_state() -> None:
    events = [
        _event(1, "ExecutionStarted"),
        _event(2, "TaskStateEntered", 1, 0, stateEnteredEventDetails={"name": "Plan"}),
        _event(3, "TaskStateExited", 2, 1, stateExitedEventDetails={"name": "Plan"}),
        _event(4, "MapStateEntered", 3, 1, stateEnteredEventDetails={"name": "Shards"}),
        # Two iterations interleave: the failure belongs to the state up its own chain.
        _event(5, "TaskStateEntered", 4, 2, stateEnteredEventDetails={"name": "Snapshot"}),
        _event(6, "TaskStateEntered", 4, 2, stateEnteredEventDetails={"name": "Snapshot"}),
        _event(7, "TaskScheduled", 5, 2),
        _event(8, "TaskScheduled", 6, 2),
        _event(9, "TaskFailed", 7, 3, taskFailedEventDetails={"error": "PartnerUnavailable", "cause": "no answer"}),
        _event(10, "TaskSucceeded", 8, 3),
        _event(11, "TaskStateExited", 10, 3, stateExitedEventDetails={"name": "Snapshot"}),
        _event(12, "ExecutionFailed", 9, 4, executionFailedEventDetails={"error": "States.TaskFailed"}),
    ]
    summary = summarize_history(events)
    assert [(s["state"], s["entered"], s["exited"], s["failed"]) for s in summary["states"]] == [
        ("Plan", 1, 1, 0),
        ("Shards", 1, 0, 0),
        ("Snapshot", 2, 1, 1),  # the task failure (the execution's failure that followed is listed, not counted)
    ]
    assert summary["states"][0]["first_entered"] == T0 and summary["states"][0]["last_exited"] == T0 + timedelta(
        1 / 86400
    )
    assert [(f["state"], f["event"], f["error"], f["cause"]) for f in summary["failures"]] == [
        ("Snapshot", "TaskFailed", "PartnerUnavailable", "no answer"),
        ("Snapshot", "ExecutionFailed", "States.TaskFailed", None),
    ]


def test_connection_options_go_before_or_after_the_command() -> None:
    before = parser().parse_args(["--json", "--api", "http://x", "ledger"])
    after = parser().parse_args(["ledger", "--json", "--api", "http://x"])
    neither = parser().parse_args(["ledger"])
    assert (before.json, before.api) == (after.json, after.api) == (True, "http://x")
    assert (neither.json, neither.api, neither.stage) == (False, None, None)
    executions = parser().parse_args(["executions", "--workflow", "selection", "--status", "failed"])
    assert (executions.workflow, executions.status, executions.limit) == ("selection", "FAILED", 20)


def test_payouts_lists_only_failed_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["payouts"], out=io.StringIO())
    assert refused.value.code == 2
    assert "only --failed" in capsys.readouterr().err


def test_a_deployed_stage_needs_an_ops_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PRAKERJA_OPS_TOKEN", raising=False)
    # --api given: no AWS call is needed to find the API, and none to find the token.
    assert main(["--stage", "staging", "--api", "https://api.example", "ledger"], out=io.StringIO()) == 2
    assert "set PRAKERJA_OPS_TOKEN" in capsys.readouterr().err
    assert not Target(api_url=None, stage="staging", region=None).local
    assert Target(api_url=None, stage=None, region=None).local
