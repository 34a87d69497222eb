"""Alarms on what breaks the applicant journey or the books, all notifying one encrypted, TLS-only
SNS topic; the stage's dashboard, showing the program's numbers by the names the handlers emit
them under (prakerja.metrics); X-Ray tracing on every function, state machine and API stage.

The alarms are a nested stack: the tests read the stage as one template (``dev_inlined``), in
which an alarm's dimension is the parent's ``{"Ref": <function>}`` again, not the parameter the
nested stack receives it by."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from prakerja.metrics import DECISION, FAILURE_CODE, FUNNEL, VERDICT, ProgramMetric
from tests.infra.cfn import (
    FUNCTION_HANDLERS,
    CfnTemplate,
    Resource,
    functions,
    one,
    program_functions,
    referenced_ids,
    resolve_string,
    resources,
)

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = "Prakerja"  # POWERTOOLS_METRICS_NAMESPACE of every function (test_functions.py)
SERVICE = {"Name": "service", "Value": "prakerja"}  # Powertools' dimension on every program metric


@pytest.fixture(scope="module")
def topic_id(dev_inlined: CfnTemplate) -> str:
    return one(dev_inlined, "AWS::SNS::Topic", "ObservabilityAlarmTopic")[0]


def test_the_alarms_are_their_own_nested_stack_and_the_topic_and_dashboard_stay(
    dev_template: CfnTemplate, dev_nested_templates: dict[str, CfnTemplate]
) -> None:
    assert not resources(dev_template, "AWS::CloudWatch::Alarm")
    ((stack_id, alarms),) = dev_nested_templates.items()
    assert {r["Type"] for r in alarms["Resources"].values()} == {"AWS::CloudWatch::Alarm"}
    one(dev_template, "AWS::SNS::Topic", "ObservabilityAlarmTopic")
    one(dev_template, "AWS::CloudWatch::Dashboard", "ObservabilityDashboard")
    # What an alarm watches, and the topic it notifies, are the parent's: each passed in as a
    # parameter by reference (no copy, no export to import).
    passed = dev_template["Resources"][stack_id]["Properties"]["Parameters"]
    assert set(passed) == set(alarms["Parameters"])
    for name, value in passed.items():
        assert referenced_ids(value) and referenced_ids(value) <= set(dev_template["Resources"]), name
    assert "Fn::ImportValue" not in json.dumps(alarms)


def test_no_alarm_is_named(dev_inlined: CfnTemplate) -> None:
    """CloudFormation names each alarm: moving one between stacks (as the alarms were moved to
    their nested stack) or replacing it creates the new one before deleting the old, which a
    fixed name would collide on."""
    named = [
        lid for lid, a in resources(dev_inlined, "AWS::CloudWatch::Alarm").items() if "AlarmName" in a["Properties"]
    ]
    assert not named


def _alarms_on(template: CfnTemplate, namespace: str, metric: str, dimension: str, value: Any) -> list[Resource]:
    return [
        alarm
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == namespace
        and alarm["Properties"].get("MetricName") == metric
        and {"Name": dimension, "Value": value} in alarm["Properties"].get("Dimensions", [])
    ]


def _assert_notifies(alarms: list[Resource], topic_id: str, missing: str = "notBreaching") -> None:
    assert len(alarms) == 1, f"expected one alarm, found {len(alarms)}"
    properties = alarms[0]["Properties"]
    assert {"Ref": topic_id} in properties["AlarmActions"]
    assert properties.get("ActionsEnabled", True) is True
    # Nothing reported means nothing broke: quiet periods must not page anyone (but see the ledger's).
    assert properties["TreatMissingData"] == missing


def _program_alarms(template: CfnTemplate, metric: ProgramMetric) -> list[Resource]:
    return [
        alarm
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == NAMESPACE
        and alarm["Properties"].get("MetricName") == metric
        and alarm["Properties"].get("Dimensions") == [SERVICE]
    ]


def test_api_5xx_alarm(dev_inlined: CfnTemplate, topic_id: str) -> None:
    _, api = one(dev_inlined, "AWS::ApiGateway::RestApi", "ApiRestApi")
    alarms = _alarms_on(dev_inlined, "AWS/ApiGateway", "5XXError", "ApiName", api["Properties"]["Name"])
    _assert_notifies(alarms, topic_id)


@pytest.mark.parametrize("name", sorted(FUNCTION_HANDLERS))
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_function_alarm(dev_inlined: CfnTemplate, topic_id: str, name: str, metric: str) -> None:
    function_id, _ = functions(dev_inlined)[name]
    alarms = _alarms_on(dev_inlined, "AWS/Lambda", metric, "FunctionName", {"Ref": function_id})
    _assert_notifies(alarms, topic_id)
    assert alarms[0]["Properties"]["Threshold"] >= 1


def test_registration_failed_alarm(dev_inlined: CfnTemplate, topic_id: str) -> None:
    machine_id, _ = one(dev_inlined, "AWS::StepFunctions::StateMachine", "RegistrationWorkflowStateMachine")
    alarms = _alarms_on(dev_inlined, "AWS/States", "ExecutionsFailed", "StateMachineArn", {"Ref": machine_id})
    _assert_notifies(alarms, topic_id)


def test_every_alarm_notifies_the_topic(dev_inlined: CfnTemplate, topic_id: str) -> None:
    for lid, alarm in resources(dev_inlined, "AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}], lid


def test_topic_is_encrypted_with_a_key_cloudwatch_may_use(dev_inlined: CfnTemplate, topic_id: str) -> None:
    topic = dev_inlined["Resources"][topic_id]["Properties"]
    key_ids = referenced_ids(topic["KmsMasterKeyId"])
    assert len(key_ids) == 1, f"the topic must use a key of this stack, not {topic['KmsMasterKeyId']}"
    (key_id,) = key_ids
    key = dev_inlined["Resources"][key_id]
    assert key["Type"] == "AWS::KMS::Key"
    # Alarms publish as CloudWatch: without this grant an encrypted topic silently drops them.
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch
    granted = {a for s in cloudwatch for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert {"kms:Decrypt", "kms:GenerateDataKey"} <= granted


def test_topic_denies_publishing_without_tls(dev_inlined: CfnTemplate, topic_id: str) -> None:
    policies = [
        p["Properties"]
        for p in resources(dev_inlined, "AWS::SNS::TopicPolicy").values()
        if {"Ref": topic_id} in p["Properties"]["Topics"]
    ]
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    denials = [
        s
        for s in statements
        if s["Effect"] == "Deny"
        and s["Principal"] in ("*", {"AWS": "*"})
        and "sns:Publish" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        and s["Resource"] == {"Ref": topic_id}
    ]
    assert [s["Condition"] for s in denials] == [{"Bool": {"aws:SecureTransport": "false"}}]


# --- the new alarms: DynamoDB throttles, the ledger, payouts stuck


def _tables(template: CfnTemplate) -> dict[str, Resource]:
    return resources(template, "AWS::DynamoDB::Table")


def _throttle_alarms(template: CfnTemplate, table_id: str) -> list[Resource]:
    """Alarms whose metric math reads a throttle metric of the table."""
    found = []
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        stats = [m["MetricStat"]["Metric"] for m in alarm["Properties"].get("Metrics", []) if "MetricStat" in m]
        if any(
            m["Namespace"] == "AWS/DynamoDB" and {"Name": "TableName", "Value": {"Ref": table_id}} in m["Dimensions"]
            for m in stats
        ):
            found.append(alarm)
    return found


def test_every_table_alarms_on_throttling_of_the_table_and_each_index(dev_inlined: CfnTemplate, topic_id: str) -> None:
    tables = _tables(dev_inlined)
    assert len(tables) >= 9
    for table_id, table in tables.items():
        alarms = _throttle_alarms(dev_inlined, table_id)
        _assert_notifies(alarms, topic_id)
        properties = alarms[0]["Properties"]
        assert properties["Threshold"] == 1
        assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        queries = properties["Metrics"]
        (expression,) = [q for q in queries if "Expression" in q]
        read = {(q["MetricStat"]["Metric"]["MetricName"], _index(q)): q["Id"] for q in queries if "MetricStat" in q}
        indexes = [None] + [i["IndexName"] for i in table["Properties"].get("GlobalSecondaryIndexes", [])]
        expected = {(f"{kind}ThrottleEvents", index) for kind in ("Read", "Write") for index in indexes}
        assert set(read) == expected, table_id
        # Each is reported only when it happens: an absent one counts 0 instead of blanking the sum.
        assert expression["Expression"] == " + ".join(f"FILL({i}, 0)" for i in sorted(read.values()))
        assert all(q["MetricStat"]["Stat"] == "Sum" for q in queries if "MetricStat" in q)


def _index(query: dict[str, Any]) -> str | None:
    dimensions = query["MetricStat"]["Metric"]["Dimensions"]
    return next((d["Value"] for d in dimensions if d["Name"] == "GlobalSecondaryIndexName"), None)


def test_any_ledger_imbalance_alarms_and_so_does_a_check_that_stopped(dev_inlined: CfnTemplate, topic_id: str) -> None:
    alarms = _program_alarms(dev_inlined, ProgramMetric.LEDGER_IMBALANCE)
    # The payout runs (every 15 minutes) report it, 0 included: no report means they stopped.
    _assert_notifies(alarms, topic_id, missing="breaching")
    properties = alarms[0]["Properties"]
    assert (properties["Statistic"], properties["ComparisonOperator"], properties["Threshold"]) == (
        "Maximum",
        "GreaterThanThreshold",
        0,
    )
    assert 15 * 60 < properties["Period"] <= 60 * 60  # more than one run's interval
    schedule = [
        rule["Properties"]["ScheduleExpression"]
        for lid, rule in resources(dev_inlined, "AWS::Events::Rule").items()
        if lid.startswith("PayoutWorkflow")
    ]
    assert schedule == ["rate(15 minutes)"]


def test_a_payout_stuck_at_its_partner_alarms(dev_inlined: CfnTemplate, topic_id: str) -> None:
    alarms = _program_alarms(dev_inlined, ProgramMetric.PAYOUTS_STUCK)
    _assert_notifies(alarms, topic_id)
    properties = alarms[0]["Properties"]
    assert (properties["Statistic"], properties["Threshold"]) == ("Sum", 1)
    assert properties["AlarmDescription"]


def test_only_the_ledger_check_treats_missing_data_as_breaching(dev_inlined: CfnTemplate) -> None:
    breaching = [
        alarm["Properties"].get("MetricName")
        for alarm in resources(dev_inlined, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["TreatMissingData"] != "notBreaching"
    ]
    assert breaching == [ProgramMetric.LEDGER_IMBALANCE]


# --- the dashboard


def _dashboard(template: CfnTemplate) -> tuple[str, dict[str, Any]]:
    _, dashboard = one(template, "AWS::CloudWatch::Dashboard", "ObservabilityDashboard")
    body: dict[str, Any] = json.loads(resolve_string(dashboard["Properties"]["DashboardBody"]))
    return dashboard["Properties"]["DashboardName"], body


def _shown(body: dict[str, Any]) -> list[list[Any]]:
    """Every metric line of every graph: [namespace, name, dimension, value, ..., {options}] or
    [{"expression": ...}]."""
    return [line for widget in body["widgets"] for line in widget["properties"].get("metrics", [])]


def _program_lines(body: dict[str, Any]) -> set[str]:
    return {line[1] for line in _shown(body) if line[0] == NAMESPACE and line[2:4] == ["service", "prakerja"]}


def _expressions(body: dict[str, Any]) -> list[str]:
    return [line[0]["expression"] for line in _shown(body) if isinstance(line[0], dict) and "expression" in line[0]]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_stage_has_its_own_dashboard(stage: str, request: pytest.FixtureRequest) -> None:
    template: CfnTemplate = request.getfixturevalue(f"{stage}_template")
    name, body = _dashboard(template)
    assert name == f"prakerja-{stage}"
    assert f"Prakerja {stage}" in body["widgets"][0]["properties"]["markdown"]


def test_the_dashboard_shows_the_journey_by_the_names_the_handlers_emit(dev_inlined: CfnTemplate) -> None:
    _, body = _dashboard(dev_inlined)
    assert set(FUNNEL) <= _program_lines(body)
    assert {ProgramMetric.LEDGER_IMBALANCE, ProgramMetric.PAYOUTS_STUCK} <= _program_lines(body)
    totals = [w for w in body["widgets"] if w["properties"].get("view") == "singleValue"]
    assert [line[1] for w in totals for line in w["properties"]["metrics"]] == list(FUNNEL)
    assert all(w["properties"]["setPeriodToTimeRange"] for w in totals)


@pytest.mark.parametrize(
    ("metric", "dimension"),
    [
        (ProgramMetric.VERIFICATION_DECISIONS, DECISION),
        (ProgramMetric.IDENTITY_CHECKS, VERDICT),
        (ProgramMetric.PAYOUTS_FAILED, FAILURE_CODE),
    ],
)
def test_the_dashboard_splits_results_by_their_codes(dev_inlined: CfnTemplate, metric: str, dimension: str) -> None:
    _, body = _dashboard(dev_inlined)
    wanted = f'SEARCH(\'{{{NAMESPACE},service,{dimension}}} MetricName="{metric}" service="prakerja"\''
    assert any(e.startswith(wanted) for e in _expressions(body)), _expressions(body)


def test_every_program_metric_on_the_dashboard_is_emitted_by_the_code() -> None:
    """The dashboard and alarms read ProgramMetric; each must be counted somewhere, by that name."""
    sources = [*(REPO / "functions").rglob("*.py"), *(REPO / "layers" / "shared" / "prakerja").rglob("*.py")]
    text = "\n".join(path.read_text(encoding="utf-8") for path in sources)
    for metric in ProgramMetric:
        assert f"name=ProgramMetric.{metric.name}" in text, metric
        assert f'name="{metric.value}"' not in text, f"{metric} emitted by a literal name"


def test_the_dashboard_shows_every_service_part(dev_inlined: CfnTemplate) -> None:
    _, body = _dashboard(dev_inlined)
    lines = [line for line in _shown(body) if isinstance(line[0], str)]

    def shown(namespace: str, metric: str, dimension: str, value: str) -> bool:
        return any(line[:4] == [namespace, metric, dimension, value] for line in lines)

    _, api = one(dev_inlined, "AWS::ApiGateway::RestApi", "ApiRestApi")
    for metric in ("Count", "5XXError", "Latency"):
        assert shown("AWS/ApiGateway", metric, "ApiName", api["Properties"]["Name"]), metric
    for name, (function_id, _) in functions(dev_inlined).items():
        for metric in ("Errors", "Throttles", "Duration"):
            assert shown("AWS/Lambda", metric, "FunctionName", "${" + function_id + "}"), (name, metric)
    for table_id in _tables(dev_inlined):
        for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
            assert shown("AWS/DynamoDB", metric, "TableName", "${" + table_id + "}"), (table_id, metric)
        throttled = f'MetricName="ThrottledRequests" TableName="${{{table_id}}}"'
        assert any(throttled in e for e in _expressions(body)), table_id
    for machine_id in resources(dev_inlined, "AWS::StepFunctions::StateMachine"):
        for metric in ("ExecutionsStarted", "ExecutionsFailed", "ExecutionsTimedOut"):
            assert shown("AWS/States", metric, "StateMachineArn", "${" + machine_id + "}"), (machine_id, metric)


def test_the_dashboard_shows_every_alarms_state(dev_inlined: CfnTemplate) -> None:
    _, body = _dashboard(dev_inlined)
    (widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    shown = {arn for arn in widget["properties"]["alarms"]}
    assert shown == {"${" + lid + "}" for lid in resources(dev_inlined, "AWS::CloudWatch::Alarm")}


# --- X-Ray: a request is traced from the API through the functions and the workflows


def test_every_function_state_machine_and_api_stage_is_traced(dev_inlined: CfnTemplate) -> None:
    lambdas = program_functions(dev_inlined)
    machines = resources(dev_inlined, "AWS::StepFunctions::StateMachine")
    stages = resources(dev_inlined, "AWS::ApiGateway::Stage")
    assert len(lambdas) == len(FUNCTION_HANDLERS) and len(machines) == 6 and stages
    assert {lid for lid, f in lambdas.items() if f["Properties"].get("TracingConfig") != {"Mode": "Active"}} == set()
    assert {
        lid for lid, m in machines.items() if m["Properties"].get("TracingConfiguration") != {"Enabled": True}
    } == set()
    assert {lid for lid, s in stages.items() if s["Properties"].get("TracingEnabled") is not True} == set()
