"""Fixtures of the localcloud tests: a small template of the real one's shape, fake handlers."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from localcloud import LocalCloud

FIXTURES = Path(__file__).parent / "fixtures"
TEMPLATE = FIXTURES / "template.json"
FAKE_FUNCTIONS = FIXTURES / "fake_functions"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def template_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(TEMPLATE.read_text())
    return body


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    """One runtime per module: moto's state is per process, and mock_aws must not run meanwhile."""
    runtime = LocalCloud(
        TEMPLATE,
        api_port=0,
        state_dir=tmp_path_factory.mktemp("localcloud"),
        env_overrides={"EXTRA_SETTING": "from-overrides"},
        code_paths=[FAKE_FUNCTIONS, REPO / "layers" / "shared"],
        stack_name="Fake-test",
    )
    os.environ["HOME_SECRET"] = "must-not-reach-workers"  # the workers' environment must not get it
    try:
        runtime.start()
    finally:
        os.environ.pop("HOME_SECRET")
    try:
        yield runtime
    finally:
        runtime.stop()
