"""Every stage synthesizes the way a user deploys it: `npx cdk synth -c stage=<s>` from the pinned
CDK CLI, with a concrete account and Jakarta's region, passes cdk-nag and cfn-lint; and so does the
region-agnostic synth the tests and the local runtime use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.infra.cfn import cdk_nag_suppressions
from tests.infra.conftest import DEPLOY_ACCOUNT, DEPLOY_REGION, STAGES, CliSynth
from tests.infra.test_cfn_lint import cfn_lint_errors, stack_template_paths


@pytest.mark.parametrize("stage", STAGES)
def test_the_cdk_cli_synthesizes_the_stage_with_a_concrete_environment(
    cli_synths: dict[str, CliSynth], stage: str
) -> None:
    synth = cli_synths[stage]
    assert synth.returncode == 0, synth.output[-6000:]
    assert "Synthesis finished with errors" not in synth.output
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    violations = [v for plugin in report["pluginReports"] for v in plugin.get("violations", [])]
    assert not violations, json.dumps(violations, indent=1)[:3000]
    template = synth.template
    assert list(cdk_nag_suppressions(template)), "no cdk_nag metadata: were the checks skipped?"
    # The environment the CLI gave it, literally in the ARNs it built: not the token form.
    text = json.dumps(template)
    assert f"arn:aws:states:{DEPLOY_REGION}:{DEPLOY_ACCOUNT}:" in text


@pytest.mark.parametrize("stage", STAGES)
def test_the_deployed_template_has_no_cfn_lint_errors(cli_synths: dict[str, CliSynth], stage: str) -> None:
    synth = cli_synths[stage]
    assert synth.returncode == 0, synth.output[-3000:]
    paths = stack_template_paths(synth.template_path)
    assert len(paths) >= 2, "the alarms' nested template is missing"
    errors = [f"{path.name}: {error}" for path in paths for error in cfn_lint_errors(path)]
    assert not errors, "\n".join(errors)


def test_the_region_agnostic_staging_and_prod_templates_lint(
    staging_template_path: Path, prod_template_path: Path
) -> None:
    # Synthesized in-process (a cdk-nag violation would have failed the fixture); cfn-lint too,
    # on the stack's template and its nested stack's.
    for parent in (staging_template_path, prod_template_path):
        errors = [f"{path.name}: {error}" for path in stack_template_paths(parent) for error in cfn_lint_errors(path)]
        assert not errors, "\n".join(errors)
