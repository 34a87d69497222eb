"""The registration state machine: logging without personal data, tracing, and its definition."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.cfn import CfnTemplate, function_id, referenced_ids, role_permissions, state_machine, walk

# The only execution data the workflow passes around: an id and the registry's verdict codes.
ALLOWED_PATHS = {"$.applicant_id", "$.registry"}
PERSONAL_FIELDS = ("nik", "kk", "full_name", "name", "birth", "address", "phone", "email", "mother")


@pytest.fixture(scope="module")
def machine(dev_template: CfnTemplate) -> tuple[str, dict[str, Any]]:
    machine_id, properties, _ = state_machine(dev_template, "RegistrationWorkflowStateMachine")
    return machine_id, properties


@pytest.fixture(scope="module")
def definition(dev_template: CfnTemplate) -> dict[str, Any]:
    return state_machine(dev_template, "RegistrationWorkflowStateMachine")[2]


def _function_id(dev_template: CfnTemplate, name: str) -> str:
    return function_id(dev_template, name)


def test_logs_every_event_but_no_execution_data(dev_template: CfnTemplate, machine: tuple[str, dict[str, Any]]) -> None:
    logging = machine[1]["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False
    (destination,) = logging["Destinations"]
    (group_id,) = referenced_ids(destination)
    assert dev_template["Resources"][group_id]["Type"] == "AWS::Logs::LogGroup"


def test_is_traced_standard_and_bounded(machine: tuple[str, dict[str, Any]], definition: dict[str, Any]) -> None:
    properties = machine[1]
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert properties["StateMachineType"] == "STANDARD"
    assert 0 < definition["TimeoutSeconds"] <= 3600


def test_starts_with_e_kyc_then_screens(dev_template: CfnTemplate, definition: dict[str, Any]) -> None:
    states = definition["States"]
    assert definition["StartAt"] == "VerifyIdentity"
    verify = states["VerifyIdentity"]
    assert verify["Type"] == "Task"
    assert verify["Resource"] == "${" + _function_id(dev_template, "VerifyIdentity") + "}"
    assert verify["Next"] == "ScreenEligibility"
    screen = states["ScreenEligibility"]
    assert screen["Resource"] == "${" + _function_id(dev_template, "ScreenEligibility") + "}"
    assert states[screen["Next"]]["Type"] == "Choice"


def test_retries_an_unavailable_civil_registry_with_backoff(definition: dict[str, Any]) -> None:
    retries = [
        r for r in definition["States"]["VerifyIdentity"]["Retry"] if "CivilRegistryUnavailable" in r["ErrorEquals"]
    ]
    assert len(retries) == 1
    retry = retries[0]
    assert retry["BackoffRate"] > 1
    assert retry["IntervalSeconds"] >= 1
    assert retry["MaxAttempts"] >= 2
    # The retries fit in the workflow's timeout, with room for the rest of the run.
    total_wait = sum(retry["IntervalSeconds"] * retry["BackoffRate"] ** i for i in range(retry["MaxAttempts"]))
    assert total_wait < definition["TimeoutSeconds"] / 2


def test_task_payloads_carry_only_the_applicant_id_and_registry_codes(definition: dict[str, Any]) -> None:
    tasks = {name: state for name, state in definition["States"].items() if state["Type"] == "Task"}
    assert set(tasks) == {"VerifyIdentity", "ScreenEligibility"}
    for name, task in tasks.items():
        for block in ("Parameters", "ResultSelector", "Arguments", "Output"):
            for key, value in walk(task.get(block, {})):
                if key.endswith(".$"):
                    assert value in ALLOWED_PATHS, f"{name}.{block}: {key} = {value}"
                field = key.removesuffix(".$").lower()
                assert field in {"applicant_id", "registry", "payload", "functionname"}, f"{name}.{block} passes {key}"
        assert "InputPath" not in task or task["InputPath"] in ALLOWED_PATHS


def test_definition_never_mentions_personal_data(definition: dict[str, Any]) -> None:
    # Comments may describe the step; paths, parameters and conditions may not name personal fields.
    for key, value in walk(definition):
        if key == "Comment":
            continue
        texts = [key] + ([value] if isinstance(value, str) else [])
        for text in texts:
            for token in text.lower().replace("$.", " ").replace(".", " ").split():
                assert token not in PERSONAL_FIELDS, f"{key}: {value}"


def test_state_machine_role_invokes_only_its_two_functions(
    dev_template: CfnTemplate, machine: tuple[str, dict[str, Any]]
) -> None:
    (role_id,) = referenced_ids(machine[1]["RoleArn"])
    permissions = role_permissions(dev_template, role_id)
    invoked = {
        i
        for s in permissions.statements
        if s.allows("lambda:InvokeFunction")
        for i in referenced_ids(list(s.resources))
    }
    assert invoked == {_function_id(dev_template, "VerifyIdentity"), _function_id(dev_template, "ScreenEligibility")}
    assert not any(s.any_resource for s in permissions.statements if s.allows("lambda:InvokeFunction"))
