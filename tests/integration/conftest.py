"""Data-layer tests on moto, with every table, key and secret created from the synthesized
CDK template (the same provisioning code the local runtime uses)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localcloud.provision import Resources, provision
from synth import ensure_synthesized

REGION = "ap-southeast-3"


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    path: Path = ensure_synthesized("dev")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


@pytest.fixture
def aws(template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Resources]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield provision(template, lambda service: boto3.client(service, region_name=REGION))  # type: ignore[call-overload]


def physical(resources: Resources, prefix: str) -> str:
    return str(resources.find(prefix).ref)


@pytest.fixture
def clients() -> dict[str, Any]:
    assert "AWS_ENDPOINT_URL" not in os.environ
    return {
        name: boto3.client(name, region_name=REGION) for name in ("dynamodb", "kms", "secretsmanager", "stepfunctions")
    }


class Serialized:
    """A client whose calls are atomic, as each DynamoDB request is: moto's in-process backend is
    not thread-safe, so threads would otherwise see its half-made writes."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return call
