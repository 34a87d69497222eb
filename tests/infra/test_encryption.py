"""Encryption at rest and TLS in transit, resource type by resource type: log groups under the
stack's logs key, queues, topics and tables encrypted, queues and topics refusing plain HTTP.
(Buckets: test_data.py; the alarm topic's key: test_observability.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.cfn import CfnTemplate, as_list, one, program_functions, referenced_ids, resolve_string, resources


@pytest.fixture(scope="module")
def logs_key(dev_template: CfnTemplate) -> tuple[str, dict[str, Any]]:
    return one(dev_template, "AWS::KMS::Key", "DataLogsKey")


def test_every_log_group_is_encrypted_with_the_logs_key(
    dev_template: CfnTemplate, logs_key: tuple[str, dict[str, Any]]
) -> None:
    """Function, state machine and API access logs alike (25 groups today)."""
    key_id, _ = logs_key
    groups = resources(dev_template, "AWS::Logs::LogGroup")
    assert len(groups) >= 25
    for lid, group in groups.items():
        assert group["Properties"].get("KmsKeyId") == {"Fn::GetAtt": [key_id, "Arn"]}, lid


def test_every_log_destination_is_a_log_group_of_the_stack(dev_template: CfnTemplate) -> None:
    """Functions, state machines and the API stage write to their own groups, not to groups the
    services would create unencrypted on first write."""
    groups = set(resources(dev_template, "AWS::Logs::LogGroup"))
    for lid, function in program_functions(dev_template).items():
        assert referenced_ids(function["Properties"]["LoggingConfig"]["LogGroup"]) <= groups, lid
        assert referenced_ids(function["Properties"]["LoggingConfig"]["LogGroup"]), lid
    for lid, machine in resources(dev_template, "AWS::StepFunctions::StateMachine").items():
        (destination,) = machine["Properties"]["LoggingConfiguration"]["Destinations"]
        arn = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]
        assert referenced_ids(arn) and referenced_ids(arn) <= groups, lid
    _, stage = one(dev_template, "AWS::ApiGateway::Stage", "ApiRestApiDeploymentStage")
    assert referenced_ids(stage["Properties"]["AccessLogSetting"]["DestinationArn"]) <= groups


def test_the_logs_key_rotates_and_only_cloudwatch_logs_may_use_it(logs_key: tuple[str, dict[str, Any]]) -> None:
    _, key = logs_key
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    (account,) = [s for s in statements if "AWS" in s["Principal"]]
    # The account's administrators (the default key policy): IAM decides who of them may.
    assert resolve_string(account["Principal"]["AWS"]) == "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
    (logs,) = [s for s in statements if "Service" in s["Principal"]]
    assert len(statements) == 2
    assert resolve_string(logs["Principal"]["Service"]) == "logs.${AWS::Region}.${AWS::URLSuffix}"
    assert logs["Effect"] == "Allow"
    assert {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"} <= set(as_list(logs["Action"]))
    assert not [a for a in as_list(logs["Action"]) if "*" in a]
    # Only on behalf of a log group of this account and region (no confused deputy).
    (condition,) = logs["Condition"]["ArnLike"].items()
    assert condition[0] == "kms:EncryptionContext:aws:logs:arn"
    assert resolve_string(condition[1]) == "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"


def test_the_logs_key_encrypts_nothing_but_logs(
    dev_template: CfnTemplate, logs_key: tuple[str, dict[str, Any]]
) -> None:
    key_id, _ = logs_key
    for lid, resource in dev_template["Resources"].items():
        if key_id in referenced_ids(resource.get("Properties", {})):
            assert resource["Type"] == "AWS::Logs::LogGroup", lid


def test_every_table_is_kms_encrypted(dev_template: CfnTemplate) -> None:
    """SSEEnabled is KMS with the AWS managed key (not the AWS owned key of SSEEnabled false);
    the personal data inside items is encrypted again by the application (personal-data key)."""
    for lid, table in resources(dev_template, "AWS::DynamoDB::Table").items():
        sse = table["Properties"]["SSESpecification"]
        assert sse["SSEEnabled"] is True, lid
        assert sse.get("SSEType", "KMS") == "KMS", lid


def _denies_plain_http(statements: list[dict[str, Any]], action: str) -> bool:
    return any(
        s["Effect"] == "Deny"
        and s["Principal"] in ("*", {"AWS": "*"})
        and any(a in (action, action.split(":", maxsplit=1)[0] + ":*") for a in as_list(s["Action"]))
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_every_queue_is_encrypted_and_tls_only(dev_template: CfnTemplate) -> None:
    queues = resources(dev_template, "AWS::SQS::Queue")
    assert queues, "the notifier's dead-letter queue"
    policies = resources(dev_template, "AWS::SQS::QueuePolicy").values()
    for lid, queue in queues.items():
        properties = queue["Properties"]
        assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties, lid
        statements = [
            s
            for p in policies
            if {"Ref": lid} in p["Properties"]["Queues"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert _denies_plain_http(statements, "sqs:SendMessage"), lid


def test_every_topic_is_encrypted_and_tls_only(dev_template: CfnTemplate) -> None:
    topics = resources(dev_template, "AWS::SNS::Topic")
    policies = resources(dev_template, "AWS::SNS::TopicPolicy").values()
    for lid, topic in topics.items():
        assert referenced_ids(topic["Properties"]["KmsMasterKeyId"]), f"{lid}: not under a key of the stack"
        statements = [
            s
            for p in policies
            if {"Ref": lid} in p["Properties"]["Topics"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert _denies_plain_http(statements, "sns:Publish"), lid
