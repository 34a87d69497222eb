"""Session fixtures: each stage's template is synthesized at most once per test session.

- dev: through ``infra/synth.py`` into cdk.out (skipped when no input changed), the same
  template ``make run`` and ``npx cdk deploy`` use. A cdk-nag violation fails this synth.
- prod and staging: in-process with ``build_app`` into a temporary directory, only when a test
  asks for them (removal policies, throttling). These three are region-agnostic.
- every stage as a user deploys it (``cli_synths``): through the pinned CDK CLI, with a concrete
  account and ap-southeast-3, the three at once.

Each stage is a stack and its nested stack (the alarms, ``*.nested.template.json`` next to the
stack's template): ``dev_template`` is the stack's own template, ``dev_nested_templates`` the nested
ones, and ``dev_inlined`` the stack with the nested resources added and their parameters resolved
to the parent's logical ids (tests.infra.cfn.inline_nested), for assertions on the whole stage.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.infra.cfn import CfnTemplate, inline_nested

if TYPE_CHECKING:
    from aws_cdk.assertions import Template

# jsii reads this when its node process starts, i.e. at the first aws_cdk import.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


@pytest.fixture(scope="session")
def dev_template_path() -> Path:
    from synth import ensure_synthesized

    return ensure_synthesized("dev")


@pytest.fixture(scope="session")
def dev_template(dev_template_path: Path) -> CfnTemplate:
    template: CfnTemplate = json.loads(dev_template_path.read_text())
    return template


def read_template(path: Path) -> CfnTemplate:
    template: CfnTemplate = json.loads(path.read_text())
    return template


def nested_templates(parent: Path) -> dict[str, CfnTemplate]:
    """The nested stacks' templates, by the logical id of the parent's AWS::CloudFormation::Stack."""
    from synth import nested_template_paths

    return {stack_id: read_template(path) for stack_id, path in nested_template_paths(parent).items()}


@pytest.fixture(scope="session")
def dev_nested_templates(dev_template_path: Path) -> dict[str, CfnTemplate]:
    return nested_templates(dev_template_path)


@pytest.fixture(scope="session")
def dev_inlined(dev_template: CfnTemplate, dev_nested_templates: dict[str, CfnTemplate]) -> CfnTemplate:
    """The whole dev stage as one template: the stack's resources and its nested stacks'."""
    return inline_nested(dev_template, dev_nested_templates)


@pytest.fixture(scope="session")
def dev(dev_template: CfnTemplate) -> Template:
    """The dev template for ``aws_cdk.assertions`` matchers."""
    from aws_cdk.assertions import Template

    return Template.from_json(dev_template)


def _synthesize_in_process(stage: str, outdir: Path) -> Path:
    from app import build_app

    assembly = build_app(stage, outdir=str(outdir)).synth()
    # The assembly's own directory: build_app defers to CDK_OUTDIR when the CDK CLI set it.
    return Path(assembly.directory) / f"Prakerja-{stage}.template.json"


@pytest.fixture(scope="session")
def prod_template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _synthesize_in_process("prod", tmp_path_factory.mktemp("cdk-prod"))


@pytest.fixture(scope="session")
def prod_template(prod_template_path: Path) -> CfnTemplate:
    return read_template(prod_template_path)


@pytest.fixture(scope="session")
def staging_template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _synthesize_in_process("staging", tmp_path_factory.mktemp("cdk-staging"))


@pytest.fixture(scope="session")
def staging_template(staging_template_path: Path) -> CfnTemplate:
    return read_template(staging_template_path)


# --- the stack as a user deploys it: `npx cdk synth -c stage=<s>` from the pinned aws-cdk CLI.
# The CLI gives the app a concrete region (and, with credentials, account), which changes how ARNs
# render (partition and region literals): acknowledgments written for the region-agnostic form
# would not hold there. No credentials are used and no AWS endpoint is called: the account comes
# from CDK_DEFAULT_ACCOUNT, and the instance-metadata lookup is switched off.
DEPLOY_REGION = "ap-southeast-3"
DEPLOY_ACCOUNT = "123456789012"
STAGES = ("dev", "staging", "prod")
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class CliSynth:
    stage: str
    returncode: int
    output: str
    outdir: Path

    @property
    def template_path(self) -> Path:
        return self.outdir / f"Prakerja-{self.stage}.template.json"

    @property
    def template(self) -> CfnTemplate:
        return read_template(self.template_path)

    @property
    def nested_template_paths(self) -> dict[str, Path]:
        from synth import nested_template_paths

        return nested_template_paths(self.template_path)


def cli_environment() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"}
    }
    return env | {
        "AWS_REGION": DEPLOY_REGION,
        "CDK_DEFAULT_ACCOUNT": DEPLOY_ACCOUNT,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }


@pytest.fixture(scope="session")
def cli_synths(dev_template_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, CliSynth]:
    """Each stage synthesized by the CDK CLI, the three at once (dev's synth first built the layers)."""
    npx = shutil.which("npx")
    assert npx, "npx (Node.js) is needed: `make test` installs the pinned aws-cdk with npm ci"
    assert (ROOT / "node_modules" / "aws-cdk").is_dir(), "the pinned aws-cdk is not installed: run `npm ci`"
    runs = {}
    for stage in STAGES:
        outdir = tmp_path_factory.mktemp(f"cdk-cli-{stage}")
        command = [npx, "--no-install", "cdk", "synth", "-c", f"stage={stage}", "-o", str(outdir), "-q", "--no-notices"]
        process = subprocess.Popen(
            command, cwd=ROOT, env=cli_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        runs[stage] = (process, outdir)
    synths = {}
    for stage, (process, outdir) in runs.items():
        output, _ = process.communicate(timeout=600)
        synths[stage] = CliSynth(stage, process.returncode, output, outdir)
    return synths
