"""cdk-nag (AwsSolutions) runs on every synth and fails it on a violation; every acknowledgment
carries its reason into the template."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.infra.cfn import CfnTemplate, cdk_nag_suppressions

MIN_REASON = 20


def test_dev_synth_passed_the_checks(dev_template_path: Path, dev_template: CfnTemplate) -> None:
    # The synth itself fails on an unacknowledged finding; its report must hold no violation either.
    report = json.loads((dev_template_path.parent / "validation-report.json").read_text())
    for plugin in report["pluginReports"]:
        assert not plugin.get("violations"), json.dumps(plugin["violations"], indent=1)[:2000]
    # Written by the cdk-nag plugin (write_suppressions_to_cloud_formation): proof it ran on this template.
    assert list(cdk_nag_suppressions(dev_template)), "no cdk_nag metadata: were the checks skipped?"


def test_every_acknowledgment_has_a_reason(dev_inlined: CfnTemplate) -> None:
    for lid, rule in cdk_nag_suppressions(dev_inlined):
        assert rule["id"].startswith("AwsSolutions-"), f"{lid}: {rule}"
        reason = rule.get("reason", "").strip()
        assert len(reason) >= MIN_REASON, f"{lid}: {rule['id']} acknowledged without a reason: {reason!r}"
        assert reason != rule["id"]


@pytest.mark.parametrize("rule", ["AwsSolutions-IAM4", "AwsSolutions-IAM5"])
def test_iam_acknowledgments_name_the_exact_finding(dev_inlined: CfnTemplate, rule: str) -> None:
    """A blanket IAM4/IAM5 acknowledgment would also hide every future wildcard or managed policy."""
    for lid, suppression in cdk_nag_suppressions(dev_inlined):
        if suppression["id"].split("[")[0] == rule:
            assert suppression["id"].startswith(f"{rule}[") and suppression["id"].endswith("]"), f"{lid}: {suppression}"


def test_a_violation_fails_the_synth(tmp_path: Path) -> None:
    """The checks as the app adds them, on a one-resource app: a topic that allows publishing without TLS."""
    import aws_cdk as cdk
    from aws_cdk import aws_sns as sns

    from prakerja_infra.nag import add_checks

    app = cdk.App(outdir=str(tmp_path))
    sns.Topic(cdk.Stack(app, "Violating"), "Topic")
    add_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for plugin in report["pluginReports"] for v in plugin["violations"]}
    assert "AwsSolutions-SNS3" in rules


def test_the_checks_reach_into_nested_stacks_and_so_do_acknowledgments(tmp_path: Path) -> None:
    """The alarms are a nested stack: cdk-nag walks the construct tree, nested stacks included, and
    an acknowledgment there is honoured and written into the nested template."""
    import aws_cdk as cdk
    from aws_cdk import aws_sns as sns

    from prakerja_infra.nag import acknowledge, add_checks

    def app_with_nested_topic(outdir: Path, *, acknowledged: bool) -> cdk.App:
        app = cdk.App(outdir=str(outdir))
        nested = cdk.NestedStack(cdk.Stack(app, "Parent"), "Nested")
        topic = sns.Topic(nested, "Topic")
        if acknowledged:
            acknowledge(topic, "AwsSolutions-SNS3", "a test topic: the finding is expected and accepted here")
        add_checks(app)
        return app

    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app_with_nested_topic(tmp_path / "violating", acknowledged=False).synth()
    report = json.loads((tmp_path / "violating" / "validation-report.json").read_text())
    paths = {
        r["constructPath"]
        for plugin in report["pluginReports"]
        for v in plugin["violations"]
        for r in v["violatingConstructs"]
        if v["ruleName"] == "AwsSolutions-SNS3"
    }
    assert paths == {"Parent/Nested/Topic/Resource"}

    app_with_nested_topic(tmp_path / "acknowledged", acknowledged=True).synth()
    (nested_template,) = (tmp_path / "acknowledged").glob("*.nested.template.json")
    suppressed = [rule["id"] for _, rule in cdk_nag_suppressions(json.loads(nested_template.read_text()))]
    assert suppressed == ["AwsSolutions-SNS3"]


SECURITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def _without_cdk_hashes(rule_id: str) -> str:
    """Logical ids as the doc writes them: without the 8-hex-digit suffix CDK appends."""
    return re.sub(r"(?<=[A-Za-z])[0-9A-F]{8}(?=[.>\"])", "", rule_id)


def _documented_rule_ids() -> set[str]:
    """Every `...` in the first column of the table under "### cdk-nag acknowledgments"."""
    section = SECURITY_DOC.read_text(encoding="utf-8").split("### cdk-nag acknowledgments", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {rule_id for row in rows for rule_id in re.findall(r"`([^`]+)`", row.split(" | ", 1)[0])}


def test_the_security_doc_lists_exactly_the_acknowledged_rule_ids(dev_inlined: CfnTemplate) -> None:
    acknowledged = {_without_cdk_hashes(rule["id"]) for _, rule in cdk_nag_suppressions(dev_inlined)}
    documented = _documented_rule_ids()
    assert not acknowledged - documented, f"acknowledged, not in docs/security.md: {acknowledged - documented}"
    assert not documented - acknowledged, f"in docs/security.md, no longer acknowledged: {documented - acknowledged}"
