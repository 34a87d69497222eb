"""Cold start: a handler's import is imports and settings only. It makes no AWS client and calls
no service (the wiring happens at a call's first need, prakerja.adapters.aws), so that the
SnapStart snapshot taken after the import holds no connection, and a restore gets fresh
randomness and clients (prakerja.snapstart)."""

from __future__ import annotations

import importlib
import random
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from pydantic import BaseModel

from prakerja import config, snapstart
from prakerja.adapters import aws
from tests.infra.cfn import FUNCTION_HANDLERS

# Every function's entry module, from the stack's handlers.
HANDLER_MODULES = [handler.rsplit(".", 1)[0] for handler in FUNCTION_HANDLERS.values()]


def _value(name: str) -> str:
    if name.endswith("_ARN"):
        return "arn:aws:states:ap-southeast-3:123456789012:stateMachine:test"
    if name.endswith("_URL"):
        return "https://partner.example.test/v1"
    if name == config.CORS_ORIGINS_VARIABLE:
        return "https://www.prakerja.example"
    if name.endswith("_PREFIX"):
        return "prakerja/test/partners/"
    return "test-" + name.lower().replace("_", "-")


def _environment() -> dict[str, str]:
    """A value for every variable a settings model requires (the others keep their defaults)."""
    models = [m for m in vars(config).values() if isinstance(m, type) and issubclass(m, BaseModel)]
    required = {name.upper() for m in models for name, field in m.model_fields.items() if field.is_required()}
    return {name: _value(name) for name in required}


@pytest.fixture
def fresh_imports(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The functions' modules imported anew, with every client made recorded."""
    for name, value in {**_environment(), "AWS_DEFAULT_REGION": "ap-southeast-3"}.items():
        monkeypatch.setenv(name, value)
    made: list[str] = []
    real_client = boto3.client

    def recorded(service: Any, **kwargs: Any) -> Any:
        made.append(service)
        return real_client(service, **kwargs)

    monkeypatch.setattr(boto3, "client", recorded)
    packages = {module.split(".")[0] for module in HANDLER_MODULES}
    for loaded in [m for m in sys.modules if m.split(".")[0] in packages]:
        monkeypatch.delitem(sys.modules, loaded)
    aws.forget()
    yield made
    aws.forget()


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_importing_a_handler_makes_no_client(fresh_imports: list[str], module: str) -> None:
    handler = importlib.import_module(module)
    assert callable(handler.lambda_handler)
    assert fresh_imports == [], f"{module} made clients at import: {fresh_imports}"
    assert aws.made() == 0


def test_one_client_per_service_and_process(fresh_imports: list[str]) -> None:
    assert aws.dynamodb() is aws.dynamodb()
    assert aws.kms() is aws.kms()
    assert fresh_imports == ["dynamodb", "kms"]


def test_after_a_restore_the_randomness_and_the_clients_are_new(fresh_imports: list[str]) -> None:
    hooks: list[Any] = []
    assert snapstart.register(hooks.append)
    before_snapshot = aws.dynamodb()
    random.seed(7)
    snapshot_sequence = [random.random() for _ in range(3)]
    random.seed(7)  # what every sandbox restored from that snapshot would start from

    (after_restore,) = hooks
    after_restore()

    assert [random.random() for _ in range(3)] != snapshot_sequence
    assert aws.made() == 0
    assert aws.dynamodb() is not before_snapshot


def test_without_the_runtimes_hook_library_nothing_is_registered() -> None:
    # snapshot_restore_py ships in Lambda's managed Python runtimes only.
    assert "snapshot_restore_py" not in sys.modules
    assert snapstart.register() is False
