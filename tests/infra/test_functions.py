"""Lambda functions: runtime, architecture, tracing, layers, logging, configuration."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from prakerja_infra.constructs.functions import BATCH_STEP_TIMEOUTS, FUNCTION_SETTINGS, LIVE_ALIAS, settings_variables
from prakerja_infra.stage import stage_config
from tests.infra.cfn import (
    API_FUNCTIONS,
    FUNCTION_HANDLERS,
    CfnTemplate,
    Resource,
    function_id,
    functions,
    literal_strings,
    referenced_ids,
    resources,
)

NAMES = sorted(FUNCTION_HANDLERS)

# Variable names that would hold a credential if they held a value rather than a reference.
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE|CREDENTIAL|API_?KEY|(^|_)KEY$", re.IGNORECASE)
# Values that are credentials whatever the variable is called.
SECRET_VALUE = [
    re.compile(r"(AKIA|ASIA)[0-9A-Z]{16}"),  # AWS access key id
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY"),
    re.compile(r"://[^/\s:@]+:[^/\s@]+@"),  # credentials in a URL
    re.compile(r"^[A-Za-z0-9+/=_-]{32,}$"),  # a long opaque token (ids, hashes, base64)
    re.compile(r"\{\{resolve:(secretsmanager|ssm-secure):"),  # a dynamic reference: the value in plain text
]


@pytest.fixture(scope="module")
def by_name(dev_template: CfnTemplate) -> dict[str, Resource]:
    return {name: function for name, (_, function) in functions(dev_template).items()}


def _properties(by_name: dict[str, Resource], name: str) -> dict[str, Any]:
    properties: dict[str, Any] = by_name[name]["Properties"]
    return properties


@pytest.mark.parametrize("name", NAMES)
def test_runtime_architecture_and_tracing(by_name: dict[str, Resource], name: str) -> None:
    properties = _properties(by_name, name)
    assert properties["Runtime"] == "python3.14"
    assert properties["Architectures"] == ["arm64"]
    assert properties["TracingConfig"] == {"Mode": "Active"}


@pytest.mark.parametrize("name", NAMES)
def test_uses_both_layers_built_for_the_same_runtime(
    dev_template: CfnTemplate, by_name: dict[str, Resource], name: str
) -> None:
    layers = _properties(by_name, name)["Layers"]
    assert len(layers) == 2
    for layer in layers:
        (layer_id,) = referenced_ids(layer)
        layer_properties = dev_template["Resources"][layer_id]["Properties"]
        assert dev_template["Resources"][layer_id]["Type"] == "AWS::Lambda::LayerVersion"
        assert layer_properties["CompatibleRuntimes"] == ["python3.14"]
        assert layer_properties["CompatibleArchitectures"] == ["arm64"]


@pytest.mark.parametrize("name", NAMES)
def test_logs_json_to_its_own_log_group_with_retention(
    dev_template: CfnTemplate, by_name: dict[str, Resource], name: str
) -> None:
    logging = _properties(by_name, name)["LoggingConfig"]
    assert logging["LogFormat"] == "JSON"
    (group_id,) = referenced_ids(logging["LogGroup"])
    group = dev_template["Resources"][group_id]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == stage_config("dev").log_retention_days
    # Its own: the group made beside the function (<owner><name>Logs<hash>, <owner><name>Function<hash>).
    construct = function_id(dev_template, name).rsplit("Function", 1)[0]
    assert construct.endswith(name) and group_id.startswith(f"{construct}Logs"), f"{name} logs to {group_id}"


def test_no_two_functions_share_a_log_group(by_name: dict[str, Resource]) -> None:
    groups = [str(p["Properties"]["LoggingConfig"]["LogGroup"]) for p in by_name.values()]
    assert len(set(groups)) == len(groups)


def test_every_log_group_has_a_retention(dev_template: CfnTemplate) -> None:
    for lid, group in resources(dev_template, "AWS::Logs::LogGroup").items():
        assert group["Properties"].get("RetentionInDays"), f"{lid} keeps logs forever"


@pytest.mark.parametrize("name", NAMES)
def test_powertools_is_configured(by_name: dict[str, Resource], name: str) -> None:
    variables = _properties(by_name, name)["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == "prakerja"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"]
    assert variables["STAGE"] == "dev"


@pytest.mark.parametrize("name", NAMES)
def test_traces_capture_neither_responses_nor_errors(by_name: dict[str, Resource], name: str) -> None:
    # A response may hold a name; an exception's message may quote the input it refused.
    variables = _properties(by_name, name)["Environment"]["Variables"]
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert variables["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"


@pytest.mark.parametrize("name", NAMES)
def test_no_environment_variable_holds_a_secret(by_name: dict[str, Resource], name: str) -> None:
    variables: dict[str, Any] = _properties(by_name, name)["Environment"]["Variables"]
    for variable, value in variables.items():
        for text in literal_strings(value):
            for pattern in SECRET_VALUE:
                assert not pattern.search(text), f"{name}: {variable} looks like a secret value"
        if SECRET_NAME.search(variable):
            # A reference to where the secret lives (its ARN, or the path of a set of them), never the secret.
            assert variable.endswith(("_ARN", "_NAME", "_ID", "_NAME_PREFIX")), f"{name}: {variable}"
            if variable.endswith("_NAME_PREFIX"):
                assert isinstance(value, str) and re.fullmatch(r"[a-z]+(/[a-z]+)+/", value), f"{name}: {value!r}"
            else:
                assert isinstance(value, dict) or value.startswith("arn:"), f"{name}: {variable}={value!r}"


SELECTION_STEPS = {"PlanSelection", "SnapshotShard", "MergeDraw", "ApplyShard", "PublishResult"}


@pytest.mark.parametrize("name", NAMES)
def test_timeout_and_memory_are_bounded(by_name: dict[str, Resource], name: str) -> None:
    properties = _properties(by_name, name)
    if name in SELECTION_STEPS:
        # A shard of a 6 M wave (~94 k participants) within Lambda's 15 minutes (docs/selection.md).
        assert properties["Timeout"] == 900
        assert properties["MemorySize"] == stage_config("dev").selection_memory_mb
        return
    if name in BATCH_STEP_TIMEOUTS:  # sized to their work (docs/deploy.md, "Batch steps")
        assert properties["Timeout"] == BATCH_STEP_TIMEOUTS[name] <= 900
    else:
        # API Gateway gives up after 29 s; a longer function timeout only bills for answers nobody reads.
        assert 1 <= properties["Timeout"] <= 29
    assert properties["MemorySize"] == stage_config("dev").lambda_memory_mb


# Set by PrakerjaFunction on every function (Powertools and the stage), not read through settings.
COMMON_VARIABLES = {
    "STAGE",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE",
    "POWERTOOLS_TRACER_CAPTURE_ERROR",
}
FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


@pytest.mark.parametrize("name", NAMES)
def test_the_environment_is_exactly_the_functions_settings(by_name: dict[str, Resource], name: str) -> None:
    """One source per contract: the variables a function is given are the fields of the settings
    model its handler loads (prakerja.config), every required one given, none that nothing reads."""
    model = FUNCTION_SETTINGS[name]
    given = set(_properties(by_name, name)["Environment"]["Variables"]) - COMMON_VARIABLES
    fields = {field.upper(): info for field, info in model.model_fields.items()}
    assert given <= set(fields), f"{name}: {sorted(given - set(fields))} are not {model.__name__} fields"
    required = {field for field, info in fields.items() if info.is_required()}
    assert required <= given, f"{name}: {sorted(required - given)} are required by {model.__name__}"


def _settings_loaded(package: Path) -> set[str]:
    """The settings models a handler package passes to load_settings, by class name."""
    loaded = set()
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "load_settings" and node.args:
                argument = node.args[0]
                loaded.add(argument.id if isinstance(argument, ast.Name) else ast.unparse(argument))
    return loaded


@pytest.mark.parametrize("name", NAMES)
def test_the_infra_names_the_settings_its_handler_loads(name: str) -> None:
    package = FUNCTIONS_DIR / FUNCTION_HANDLERS[name].split(".")[0]
    assert FUNCTION_SETTINGS[name].__name__ in _settings_loaded(package), name


def test_a_variable_the_settings_do_not_have_fails_the_synth() -> None:
    good = {"WAVES_TABLE": "w", "SELECTION_BUCKET": "b"}
    assert settings_variables("MergeDraw", good) == good
    with pytest.raises(ValueError, match=r"not settings \['API_VERSION'\]"):
        settings_variables("MergeDraw", {**good, "API_VERSION": "1"})
    with pytest.raises(ValueError, match=r"settings not given \['SELECTION_BUCKET'\]"):
        settings_variables("MergeDraw", {"WAVES_TABLE": "w"})
    with pytest.raises(ValueError, match="no settings model"):
        settings_variables("Unknown", good)


def _live_alias(template: CfnTemplate, name: str) -> Resource:
    function = function_id(template, name)
    (alias,) = [
        a
        for a in resources(template, "AWS::Lambda::Alias").values()
        if a["Properties"]["FunctionName"] == {"Ref": function}
    ]
    return alias


@pytest.mark.parametrize("name", API_FUNCTIONS)
def test_an_api_function_is_invoked_through_its_live_alias_on_a_published_version(
    dev_template: CfnTemplate, name: str
) -> None:
    """SnapStart restores published versions only: the routes call the `live` alias, which points at
    the version published by the last deploy (the integrations themselves: test_api.py)."""
    alias = _live_alias(dev_template, name)["Properties"]
    assert alias["Name"] == LIVE_ALIAS
    (version_id,) = referenced_ids(alias["FunctionVersion"])
    version = dev_template["Resources"][version_id]
    assert version["Type"] == "AWS::Lambda::Version"
    assert version["Properties"]["FunctionName"] == {"Ref": function_id(dev_template, name)}


@pytest.mark.parametrize("name", API_FUNCTIONS)
def test_the_api_functions_start_from_a_snapshot_in_staging_and_prod(
    staging_template: CfnTemplate, prod_template: CfnTemplate, dev_template: CfnTemplate, name: str
) -> None:
    for template in (staging_template, prod_template):
        _, function = functions(template)[name]
        assert function["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        assert function["Properties"]["Architectures"] == ["arm64"]  # SnapStart for Python runs on Graviton too
    assert "SnapStart" not in functions(dev_template)[name][1]["Properties"]  # dev: no snapshot billed


def test_only_the_api_functions_are_published(staging_template: CfnTemplate) -> None:
    """The workflow steps are invoked by Step Functions on $LATEST, in bursts that a snapshot would
    not shorten much; their cold start is a share of a long batch, not of a person's wait."""
    published = {n for n, (_, f) in functions(staging_template).items() if "SnapStart" in f["Properties"]}
    assert published == set(API_FUNCTIONS)
