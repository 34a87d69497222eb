"""Session fixtures: each stage's template is synthesized at most once per test session.

- dev: through ``infra/synth.py`` into cdk.out (skipped when no input changed), the same
  template ``make run`` and ``npx cdk deploy`` use. A cdk-nag violation fails this synth.
- prod and staging: in-process with ``build_app`` into a temporary directory, only when a test
  asks for them (removal policies, throttling).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.infra.cfn import CfnTemplate

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


@pytest.fixture(scope="session")
def dev(dev_template: CfnTemplate) -> Template:
    """The dev template for ``aws_cdk.assertions`` matchers."""
    from aws_cdk.assertions import Template

    return Template.from_json(dev_template)


def _synthesize_in_process(stage: str, outdir: Path) -> CfnTemplate:
    from app import build_app

    assembly = build_app(stage, outdir=str(outdir)).synth()
    # The assembly's own directory: build_app defers to CDK_OUTDIR when the CDK CLI set it.
    path = Path(assembly.directory) / f"Prakerja-{stage}.template.json"
    template: CfnTemplate = json.loads(path.read_text())
    return template


@pytest.fixture(scope="session")
def prod_template(tmp_path_factory: pytest.TempPathFactory) -> CfnTemplate:
    return _synthesize_in_process("prod", tmp_path_factory.mktemp("cdk-prod"))


@pytest.fixture(scope="session")
def staging_template(tmp_path_factory: pytest.TempPathFactory) -> CfnTemplate:
    return _synthesize_in_process("staging", tmp_path_factory.mktemp("cdk-staging"))
