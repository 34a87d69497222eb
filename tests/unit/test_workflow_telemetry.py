"""Workflow steps' logs and metrics, read from what the real handlers print (Powertools' JSON log
lines and EMF blobs), with their services replaced by fakes.

Every log line of a step carries the correlation id of its execution, taken from the payload the
state machine gives it (constructs/steps.py); the payout run checks the ledger's books and
hands its id to every transfer step through the run's items.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from prakerja.adapters.payout_metrics import PayoutMetrics
from prakerja.cards.deadlines import ShardItem, ShardSwept, SweepPlanner
from prakerja.ledger.report import BookTotal, LedgerReport, ledger_report
from prakerja.metrics import FAILURE_CODE, ProgramMetric
from prakerja.notifications import Delivery
from prakerja.observability import logger, metrics
from prakerja.payouts.models import FailureCode, IncentiveKind, PayoutRecord, PayoutStatus
from prakerja.payouts.reconciliation import Reconciliation
from prakerja.registration.eligibility import RegistryVerdict
from prakerja.waves.models import PARTICIPANT_SHARDS, Wave, WaveStatus
from tests.fakes import FixedClock

PAYOUT_ID = "po-0123456789abcdef01234567"
# A step that counted nothing says so; not what these tests are about.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")
STEP_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "ap-southeast-3",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_SERVICE_NAME": "prakerja",
    "APPLICANTS_TABLE": "applicants",
    "EXCLUSIONS_TABLE": "exclusions",
    "OUTBOX_TABLE": "outbox",
    "WAVES_TABLE": "waves",
    "LEDGER_TABLE": "ledger",
    "PAYOUTS_TABLE": "payouts",
    "PAYOUTS_BUCKET": "payout-files",
    "SELECTION_BUCKET": "selection",
    "PERSONAL_DATA_KEY_ARN": "arn:aws:kms:ap-southeast-3:123456789012:key/test",
    "CIVIL_REGISTRY_URL": "https://dukcapil.example.test/api/v1",
    "PAYMENT_PARTNERS_URL": "https://payments.example.test/v1",
    "PARTNER_SECRET_NAME_PREFIX": "prakerja/test/partners/",
}


@dataclass
class Context:
    function_name: str = "step"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:ap-southeast-3:123456789012:function:step"
    aws_request_id: str = "lambda-request-1"


@pytest.fixture
def step(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """A step's handler module, imported with a function's environment (its import makes no
    client and calls nothing: tests/unit/test_cold_start.py)."""
    for name, value in STEP_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    # The process-wide Metrics may have been created before this environment was set.
    monkeypatch.setattr(metrics, "namespace", "Prakerja")
    monkeypatch.setattr(metrics, "service", "prakerja")
    return importlib.import_module


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    handler.setStream(previous)
    logger.set_correlation_id(None)


def emitted(printed: str) -> dict[str, list[dict[str, Any]]]:
    """Metric name -> every EMF blob (values and dimensions) that published it."""
    found: dict[str, list[dict[str, Any]]] = {}
    for line in printed.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                found.setdefault(metric["Name"], []).append(blob)
    return found


def reconciled(key: str) -> Reconciliation:
    return Reconciliation(
        provider="BNI",
        date=date(2026, 11, 22),
        report_key=key,
        report_lines=0,
        ledger_lines=0,
        matched=0,
        report_total=0,
        ledger_total=0,
        status="BALANCED",
        discrepancies=[],
    )


def merged(wave_id: str) -> SimpleNamespace:
    return SimpleNamespace(participants=10, eligible=8, provincial_selected=2, national_selected=1)


def swept_page(item: ShardItem, cursor: str | None, revoked: int, returned: int) -> ShardSwept:
    """A page of a shard swept: ``revoked`` cards of it, ``returned`` Rupiah."""
    return ShardSwept(
        wave_id=item.wave_id,
        shard=item.shard,
        cursor=cursor,
        revoked=item.revoked + revoked,
        returned=item.returned + returned,
    )


# module, the wiring replaced (the factory the handler calls), its fake, the payload, the correlation id expected
STEPS = [
    (
        "registration_workflow.verify_identity",
        "identity_verification",
        SimpleNamespace(verify_identity=lambda applicant_id: RegistryVerdict.MATCH),
        {"applicant_id": "a-42"},
        "a-42",  # the execution is named after the applicant
    ),
    (
        "selection_workflow.merge_draw",
        "draw_merge",
        SimpleNamespace(run=merged),
        {"wave_id": "wave-7"},
        "wave-7",  # the execution is named after the wave
    ),
    (
        "card_deadlines.sweep_shard",
        "shard_sweeper",
        SimpleNamespace(sweep=lambda item: swept_page(item, "c2", 1, 9)),
        {
            "wave_id": "wave-7",
            "shard": 3,
            "cursor": None,
            "revoked": 0,
            "returned": 0,
            "correlation_id": "nightly-2026-11-22",
        },
        "nightly-2026-11-22",
    ),
    (
        "payout_workflow.check_transfer",
        "transfers",
        SimpleNamespace(check=lambda applicant_id, payout_id: {"status": "PAID", "failure_code": None}),
        {"applicant_id": "a-42", "payout_id": PAYOUT_ID, "callback_timeout_seconds": 900, "run_id": "run-15"},
        "run-15",
    ),
    (
        "reconciliation.reconcile_settlement",
        "reconciliation",
        SimpleNamespace(run=reconciled),
        {"report_key": "settlements/BNI/2026-11-22.csv", "correlation_id": "recon-BNI-2026-11-22"},
        "recon-BNI-2026-11-22",
    ),
]


@pytest.mark.parametrize(("module", "attribute", "fake", "payload", "correlation_id"), STEPS, ids=[s[0] for s in STEPS])
def test_every_log_line_of_a_step_carries_its_executions_correlation_id(
    step: Callable[[str], ModuleType],
    log_lines: Callable[[], list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    module: str,
    attribute: str,
    fake: object,
    payload: dict[str, Any],
    correlation_id: str,
) -> None:
    handler = step(module)
    monkeypatch.setattr(handler, attribute, lambda: fake)
    handler.lambda_handler(payload, Context())
    lines = log_lines()
    assert lines, "the step logs what it did"
    assert [line.get("correlation_id") for line in lines] == [correlation_id] * len(lines)


def _report(debits: int, credits: int) -> LedgerReport:
    return ledger_report({"STATE_BUDGET": BookTotal(0, credits), "PROGRAM_BUDGET": BookTotal(debits, 0)})


@pytest.mark.parametrize(("debits", "imbalance"), [(1_000, 0), (900, 100)])
def test_a_payout_run_checks_the_books_and_hands_its_id_to_every_item(
    step: Callable[[str], ModuleType],
    log_lines: Callable[[], list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    debits: int,
    imbalance: int,
) -> None:
    collect = step("payout_workflow.collect_due")
    written: dict[str, bytes] = {}
    books = SimpleNamespace(report=lambda: _report(debits, 1_000))
    monkeypatch.setattr(collect, "ledger", lambda: books)
    due = SimpleNamespace(due=lambda limit: [("a-42", PAYOUT_ID)])
    monkeypatch.setattr(collect, "transfers", lambda: due)
    store = SimpleNamespace(put=lambda key, body, content_type: written.__setitem__(key, body))
    monkeypatch.setattr(collect, "run_files", lambda: store)

    result = collect.lambda_handler({"run_id": "run-15"}, Context())

    assert result["items_key"] == "payout-runs/run-15/payouts.json"
    (item,) = json.loads(written[result["items_key"]])
    assert item["run_id"] == "run-15"  # the transfer steps' correlation id
    lines = log_lines()
    assert {line.get("correlation_id") for line in lines} == {"run-15"}
    assert any(line["level"] == "ERROR" for line in lines) == (imbalance > 0)
    (blob,) = emitted(capsys.readouterr().out)[ProgramMetric.LEDGER_IMBALANCE]
    assert blob[ProgramMetric.LEDGER_IMBALANCE] == [imbalance]  # 0 too: a check that ran
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Prakerja"


def test_payout_outcomes_are_counted_in_total_and_failures_by_code_apart(
    step: Callable[[str], ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    at = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    payout = PayoutRecord(PAYOUT_ID, "a-42", IncentiveKind.JOB_SEARCH, 1, 600_000, PayoutStatus.PROCESSING, at, at)
    tally = PayoutMetrics()
    tally.settled(payout.with_changes(status=PayoutStatus.PAID))
    tally.settled(payout.with_changes(status=PayoutStatus.FAILED, failure_code=FailureCode.NAME_MISMATCH))
    tally.stuck(payout)
    metrics.flush_metrics()

    published = emitted(capsys.readouterr().out)
    assert published[ProgramMetric.PAYOUTS_PAID][0][ProgramMetric.PAYOUTS_PAID] == [1.0]
    assert published[ProgramMetric.PAYOUTS_STUCK][0][ProgramMetric.PAYOUTS_STUCK] == [1.0]
    dimensions = sorted(
        tuple(blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) for blob in published[ProgramMetric.PAYOUTS_FAILED]
    )
    assert dimensions == [(FAILURE_CODE, "service"), ("service",)]  # by code, and in total
    by_code = next(b for b in published[ProgramMetric.PAYOUTS_FAILED] if FAILURE_CODE in b)
    assert by_code[FAILURE_CODE] == "NAME_MISMATCH"
    # Only the failure metric of its own is split by code: the invocation's other metrics are not.
    shared = next(b for b in published[ProgramMetric.PAYOUTS_PAID])
    assert FAILURE_CODE not in shared and shared["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]


def test_the_notifier_correlates_each_message_with_the_wave_it_is_about(
    step: Callable[[str], ModuleType],
    log_lines: Callable[[], list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notifier = step("notifier.handler")
    sender = SimpleNamespace(deliver=lambda message: Delivery.SENT)
    monkeypatch.setattr(notifier, "notifier", lambda: sender)
    image = {
        "pk": {"S": "APPLICANT#a-42"},
        "sk": {"S": "WAVE_RESULT#wave-7"},
        "kind": {"S": "WAVE_RESULT"},
        "applicant_id": {"S": "a-42"},
        "wave_id": {"S": "wave-7"},
        "status": {"S": "NOT_SELECTED"},
    }
    record = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {k: image[k] for k in ("pk", "sk")}, "NewImage": image, "SequenceNumber": "100"},
    }
    assert notifier.lambda_handler({"Records": [record]}, Context()) == {"batchItemFailures": []}
    (notified,) = [line for line in log_lines() if line["message"] == "notified"]
    assert notified["correlation_id"] == "wave-7"  # as the selection workflow's lines of that wave


def test_the_sweep_plan_hands_each_shard_a_null_cursor_and_zero_totals(
    step: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state machine's loop reads $.cursor, $.revoked and $.returned of every Map item."""
    plan_sweep = step("card_deadlines.plan_sweep")
    clock = FixedClock()
    closed = clock.now() - timedelta(days=20)  # the 2023 scheme's 15 days are over
    wave = Wave(
        wave_id="wave-7",
        name="Gelombang 7",
        opens_at=closed - timedelta(days=7),
        closes_at=closed,
        quota_total=10,
        quotas={},
        scheme="2023",
        seed_commitment="0" * 64,
        status=WaveStatus.SELECTED,
        created_at=closed - timedelta(days=8),
        closed_at=closed,
    )
    planner = SweepPlanner(SimpleNamespace(all_waves=lambda: iter([wave])), clock)
    monkeypatch.setattr(plan_sweep, "planner", lambda: planner)

    output = json.loads(json.dumps(plan_sweep.lambda_handler({"correlation_id": "nightly"}, Context())))

    assert output["wave_ids"] == ["wave-7"]
    assert output["shards"] == [
        {"wave_id": "wave-7", "shard": s, "cursor": None, "revoked": 0, "returned": 0}
        for s in range(PARTICIPANT_SHARDS)
    ]


@pytest.mark.parametrize(("cursor", "done"), [("c3", False), (None, True)])
def test_a_shard_page_returns_the_loops_next_item_and_counts_only_its_own_cards(
    step: Callable[[str], ModuleType],
    log_lines: Callable[[], list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    cursor: str | None,
    done: bool,
) -> None:
    sweep_shard = step("card_deadlines.sweep_shard")
    given: list[ShardItem] = []

    def sweep(item: ShardItem) -> ShardSwept:
        given.append(item)
        return swept_page(item, cursor, 2, 70)

    sweeper = SimpleNamespace(sweep=sweep)
    monkeypatch.setattr(sweep_shard, "shard_sweeper", lambda: sweeper)
    payload = {"wave_id": "wave-7", "shard": 3, "cursor": "c2", "revoked": 40, "returned": 1_400, "correlation_id": "n"}

    output = sweep_shard.lambda_handler(payload, Context())

    assert given == [ShardItem(wave_id="wave-7", shard=3, cursor="c2", revoked=40, returned=1_400)]
    # JSON as it is, the next page's input: the running totals, null once the shard is done.
    assert json.loads(json.dumps(output)) == {
        "wave_id": "wave-7",
        "shard": 3,
        "cursor": cursor,
        "revoked": 42,
        "returned": 1_470,
    }
    (line,) = [line for line in log_lines() if line["message"] == "shard page swept"]
    assert (line["page_revoked"], line["page_returned"], line["revoked"], line["shard_done"]) == (2, 70, 42, done)
    (blob,) = emitted(capsys.readouterr().out)["CardsRevoked"]
    assert blob["CardsRevoked"] == [2.0]  # this page's cards, not the shard's total
