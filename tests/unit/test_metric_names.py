"""Every metric the code emits is named in prakerja.metrics, never by a string at the call.

Dashboards, alarms and saved queries read metrics by name: a name typed at a call can drift from
the one they read without anything failing. This test reads the source of the handlers and the
shared layer: the name given to ``add_metric`` or ``single_metric`` must be a member of one of
prakerja.metrics's enums, a choice between such members, or a lookup in one of its tables.
"""

from __future__ import annotations

import ast
from enum import StrEnum
from pathlib import Path

import pytest

from prakerja import metrics as names
from prakerja.metrics import PAYOUT_ACCOUNTS_LINKED, OperationalMetric, ProgramMetric
from prakerja.payouts.models import AccountStatus

REPO = Path(__file__).resolve().parents[2]
SOURCES = (REPO / "functions", REPO / "layers" / "shared" / "prakerja")
EMITTERS = {"add_metric", "single_metric"}
# What prakerja.metrics names: its enums of names, and its tables of them.
ENUMS = {n for n, v in vars(names).items() if isinstance(v, type) and issubclass(v, StrEnum) and v is not StrEnum}
TABLES = {n for n, v in vars(names).items() if isinstance(v, dict) and all(isinstance(m, StrEnum) for m in v.values())}


def named(node: ast.expr) -> bool:
    """Whether a metric's name is one of prakerja.metrics's: ``Enum.MEMBER``, ``a if c else b``
    of such, or ``TABLE[key]``."""
    if isinstance(node, ast.Attribute):
        return isinstance(node.value, ast.Name) and node.value.id in ENUMS
    if isinstance(node, ast.IfExp):
        return named(node.body) and named(node.orelse)
    if isinstance(node, ast.Subscript):
        return isinstance(node.value, ast.Name) and node.value.id in TABLES
    return False


def members(node: ast.expr) -> set[str]:
    """The metric names a ``named`` expression may stand for."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return {str(getattr(getattr(names, node.value.id), node.attr))}
    if isinstance(node, ast.IfExp):
        return members(node.body) | members(node.orelse)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        return {str(m) for m in getattr(names, node.value.id).values()}
    return set()


def metric_names(tree: ast.AST) -> list[tuple[int, ast.expr | None]]:
    """(line, name expression) of every metric emitted; a variable stands for what it is set to
    in the module (every assignment of it)."""
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    found: list[tuple[int, ast.expr | None]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if called not in EMITTERS:
            continue
        keywords = {k.arg: k.value for k in node.keywords}
        name = keywords.get("name", node.args[0] if node.args else None)
        if isinstance(name, ast.Name) and name.id in assigned:
            found += [(node.lineno, value) for value in assigned[name.id]]
        else:
            found.append((node.lineno, name))
    return found


def problems_in(text: str, where: str) -> tuple[list[str], set[str]]:
    """The metric names of one module not taken from prakerja.metrics, and those that are."""
    emitted = metric_names(ast.parse(text))
    problems = [
        f"{where}:{line}: {ast.unparse(name) if name else '(no name)'}"
        for line, name in emitted
        if name is None or not named(name)
    ]
    return problems, {m for _, name in emitted if name is not None and named(name) for m in members(name)}


def test_no_handler_or_service_names_a_metric_by_a_string() -> None:
    problems: list[str] = []
    emitted: set[str] = set()
    for path in sorted(p for root in SOURCES for p in root.rglob("*.py") if "__pycache__" not in p.parts):
        found, named_here = problems_in(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
        problems += found
        emitted |= named_here
    assert not problems, "metrics named outside prakerja.metrics:\n" + "\n".join(problems)
    # The scan saw the real calls: every name prakerja.metrics has is emitted somewhere.
    assert emitted == {str(m) for m in [*ProgramMetric, *OperationalMetric]}


@pytest.mark.parametrize(
    "source",
    [
        'metrics.add_metric(name="TransfersSent", unit="Count", value=1)',
        'metrics.add_metric("TransfersSent", "Count", 1)',
        'metrics.add_metric(name=f"PayoutAccounts{status.title()}", unit="Count", value=1)',
        'metrics.add_metric(name="Cards" + kind, unit="Count", value=1)',
        'metrics.add_metric(name=OperationalMetric.REVIEWS if ok else "Other", unit="Count", value=1)',
        'passed = "AssessmentsPassed"\nmetrics.add_metric(name=passed, unit="Count", value=1)',
        'metrics.add_metric(name=NOT_A_TABLE[status], unit="Count", value=1)',
        'metrics.add_metric(name=str(ProgramMetric.PURCHASES), unit="Count", value=1)',
        'with single_metric(name="PayoutsFailed", unit="Count", value=1) as m: ...',
    ],
)
def test_the_scan_reports_a_name_given_as_a_string(source: str) -> None:
    problems, emitted = problems_in(source, "example.py")
    assert len(problems) == 1 and not emitted, problems


@pytest.mark.parametrize(
    "source",
    [
        'metrics.add_metric(name=ProgramMetric.PURCHASES, unit="Count", value=1)',
        "metrics.add_metric(OperationalMetric.REVIEWS, MetricUnit.Count, 1)",
        "passed = OperationalMetric.ASSESSMENTS_PASSED if ok else OperationalMetric.ASSESSMENTS_FAILED\n"
        'metrics.add_metric(name=passed, unit="Count", value=1)',
        'metrics.add_metric(name=PAYOUT_ACCOUNTS_LINKED[account.status], unit="Count", value=1)',
        'with single_metric(name=ProgramMetric.PAYOUTS_FAILED, unit="Count", value=1) as m: ...',
    ],
)
def test_the_scan_accepts_names_from_prakerja_metrics(source: str) -> None:
    problems, emitted = problems_in(source, "example.py")
    assert not problems and emitted, problems


def test_operational_metrics_keep_the_names_cloudwatch_has() -> None:
    """Renaming one starts a new metric and leaves queries of the old one reading nothing."""
    assert {str(m) for m in OperationalMetric} == {
        "AssessmentsPassed",
        "AssessmentsFailed",
        "PayoutAccountsPending",
        "PayoutAccountsValid",
        "PayoutAccountsInvalid",
        "SurveyResponses",
        "PurchaseRupiah",
        "Reviews",
        "IncentivesGranted",
        "ProfileCorrections",
        "VouchersRedeemed",
        "PaymentCallbacks",
        "ExclusionsImported",
        "ExclusionsRemoved",
        "OpsActionsRequested",
        "OpsActionsApproved",
        "WavesClosed",
        "SelectionParticipantsSnapshot",
        "SelectionOutcomesWritten",
        "CardsRevoked",
        "PayoutsCollected",
        "TransfersSent",
        "SettlementDiscrepancies",
        "NotificationsSent",
        "NotificationsClaimHeld",
    }
    assert not {str(m) for m in OperationalMetric} & {str(m) for m in ProgramMetric}


def test_a_linked_payout_account_is_counted_under_its_status() -> None:
    assert set(PAYOUT_ACCOUNTS_LINKED) == set(AccountStatus)
    for status, metric in PAYOUT_ACCOUNTS_LINKED.items():
        assert metric == f"PayoutAccounts{status.title()}"  # the name it had when built from the status
