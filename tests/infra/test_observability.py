"""Alarms on what breaks the applicant journey, all notifying one encrypted, TLS-only SNS topic."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.cfn import FUNCTION_HANDLERS, CfnTemplate, Resource, functions, one, referenced_ids, resources


@pytest.fixture(scope="module")
def topic_id(dev_template: CfnTemplate) -> str:
    return one(dev_template, "AWS::SNS::Topic", "ObservabilityAlarmTopic")[0]


def _alarms_on(template: CfnTemplate, namespace: str, metric: str, dimension: str, value: Any) -> list[Resource]:
    return [
        alarm
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == namespace
        and alarm["Properties"].get("MetricName") == metric
        and {"Name": dimension, "Value": value} in alarm["Properties"].get("Dimensions", [])
    ]


def _assert_notifies(alarms: list[Resource], topic_id: str) -> None:
    assert len(alarms) == 1, f"expected one alarm, found {len(alarms)}"
    properties = alarms[0]["Properties"]
    assert {"Ref": topic_id} in properties["AlarmActions"]
    assert properties.get("ActionsEnabled", True) is True
    # Nothing reported means nothing broke: quiet periods must not page anyone.
    assert properties["TreatMissingData"] == "notBreaching"


def test_api_5xx_alarm(dev_template: CfnTemplate, topic_id: str) -> None:
    _, api = one(dev_template, "AWS::ApiGateway::RestApi", "ApiRestApi")
    alarms = _alarms_on(dev_template, "AWS/ApiGateway", "5XXError", "ApiName", api["Properties"]["Name"])
    _assert_notifies(alarms, topic_id)


@pytest.mark.parametrize("name", sorted(FUNCTION_HANDLERS))
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_function_alarm(dev_template: CfnTemplate, topic_id: str, name: str, metric: str) -> None:
    function_id, _ = functions(dev_template)[name]
    alarms = _alarms_on(dev_template, "AWS/Lambda", metric, "FunctionName", {"Ref": function_id})
    _assert_notifies(alarms, topic_id)
    assert alarms[0]["Properties"]["Threshold"] >= 1


def test_registration_failed_alarm(dev_template: CfnTemplate, topic_id: str) -> None:
    machine_id, _ = one(dev_template, "AWS::StepFunctions::StateMachine", "RegistrationWorkflowStateMachine")
    alarms = _alarms_on(dev_template, "AWS/States", "ExecutionsFailed", "StateMachineArn", {"Ref": machine_id})
    _assert_notifies(alarms, topic_id)


def test_every_alarm_notifies_the_topic(dev_template: CfnTemplate, topic_id: str) -> None:
    for lid, alarm in resources(dev_template, "AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}], lid


def test_topic_is_encrypted_with_a_key_cloudwatch_may_use(dev_template: CfnTemplate, topic_id: str) -> None:
    topic = dev_template["Resources"][topic_id]["Properties"]
    key_ids = referenced_ids(topic["KmsMasterKeyId"])
    assert len(key_ids) == 1, f"the topic must use a key of this stack, not {topic['KmsMasterKeyId']}"
    (key_id,) = key_ids
    key = dev_template["Resources"][key_id]
    assert key["Type"] == "AWS::KMS::Key"
    # Alarms publish as CloudWatch: without this grant an encrypted topic silently drops them.
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch
    granted = {a for s in cloudwatch for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert {"kms:Decrypt", "kms:GenerateDataKey"} <= granted


def test_topic_denies_publishing_without_tls(dev_template: CfnTemplate, topic_id: str) -> None:
    policies = [
        p["Properties"]
        for p in resources(dev_template, "AWS::SNS::TopicPolicy").values()
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
