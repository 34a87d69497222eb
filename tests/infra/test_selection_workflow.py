"""The selection state machine: the path of a wave's draw, the Distributed Maps over the shard
list, retries of the shard steps, and a role that invokes only its five functions."""

from __future__ import annotations

from typing import Any

import pytest

from prakerja.waves.models import PARTICIPANT_SHARDS
from tests.infra.cfn import CfnTemplate, function_id, referenced_ids, role_permissions, state_machine, walk

STEPS = ["PlanSelection", "SnapshotShards", "MergeDraw", "ApplyShards", "PublishResult", "Published"]
FUNCTIONS = ["PlanSelection", "SnapshotShard", "MergeDraw", "ApplyShard", "PublishResult"]


@pytest.fixture(scope="module")
def machine(dev_template: CfnTemplate) -> tuple[str, dict[str, Any]]:
    machine_id, properties, _ = state_machine(dev_template, "SelectionWorkflowStateMachine")
    return machine_id, properties


@pytest.fixture(scope="module")
def definition(dev_template: CfnTemplate) -> dict[str, Any]:
    return state_machine(dev_template, "SelectionWorkflowStateMachine")[2]


def test_the_steps_run_in_order(definition: dict[str, Any]) -> None:
    path, state = [], definition["StartAt"]
    while state:
        path.append(state)
        state = definition["States"][state].get("Next")
    assert path == STEPS


@pytest.mark.parametrize(
    ("map_state", "task", "items", "parameters"),
    [
        ("SnapshotShards", "SnapshotShard", "$.plan.shards_key", {"wave_id.$": "$.wave_id", "shard.$": "$.shard"}),
        (
            "ApplyShards",
            "ApplyShard",
            "$.plan.parts_key",
            {"wave_id.$": "$.wave_id", "shard.$": "$.shard", "part.$": "$.part", "parts.$": "$.parts"},
        ),
    ],
)
def test_maps_are_distributed_over_the_plans_lists(
    definition: dict[str, Any], map_state: str, task: str, items: str, parameters: dict[str, str]
) -> None:
    state = definition["States"][map_state]
    assert state["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    reader = state["ItemReader"]
    assert reader["ReaderConfig"] == {"InputType": "JSON"}
    assert reader["Parameters"]["Key.$"] == items
    assert reader["Resource"].endswith(":states:::s3:getObject")
    # moto's interpreter rejects ItemBatcher: each item is a shard, a batch in itself.
    assert "ItemBatcher" not in state
    assert state["MaxConcurrency"] == PARTICIPANT_SHARDS
    child = state["ItemProcessor"]["States"][task]
    assert child["Parameters"] == parameters
    retried = {error for retry in child["Retry"] for error in retry["ErrorEquals"]}
    assert {"ClientError", "Lambda.ServiceException"} <= retried


def test_publish_gets_every_shards_counts(definition: dict[str, Any]) -> None:
    assert definition["States"]["ApplyShards"]["ResultPath"] == "$.applied"
    assert definition["States"]["PublishResult"]["Parameters"] == {"wave_id.$": "$.wave_id", "applied.$": "$.applied"}


def test_execution_data_are_ids_and_counts(definition: dict[str, Any]) -> None:
    paths = {value for key, value in walk(definition) if key.endswith(".$")}
    assert paths == {"$.wave_id", "$.shard", "$.part", "$.parts", "$.plan.shards_key", "$.plan.parts_key", "$.applied"}


def test_is_standard_traced_logged_and_bounded(machine: tuple[str, dict[str, Any]]) -> None:
    properties = machine[1]
    assert properties["StateMachineType"] == "STANDARD"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert properties["LoggingConfiguration"]["IncludeExecutionData"] is False


def test_role_invokes_only_the_five_steps_and_starts_only_its_own_children(
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
    assert invoked == {function_id(dev_template, name) for name in FUNCTIONS}
    starts = [s for s in permissions.statements if s.allows("states:StartExecution")]
    assert starts and all(list(s.resources) == [{"Ref": machine[0]}] for s in starts)
    assert not any(permissions.allows(action) for action in ("s3:PutObject", "s3:DeleteObject"))
