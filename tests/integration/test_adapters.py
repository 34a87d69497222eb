"""Exclusion lists, the KMS cipher, the hashing key and the workflow starter on moto."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.provision import Resources
from prakerja.adapters.dynamodb_exclusions import DynamoDBExclusionRepository
from prakerja.adapters.kms_cipher import KmsCipher
from prakerja.adapters.secrets_hasher import load_keyring
from prakerja.adapters.stepfunctions_starter import StepFunctionsStarter
from prakerja.registration.models import ExclusionSource
from tests.integration.conftest import physical

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_exclusion_lists_are_read_back_per_nik_across_batches(aws: Resources, clients: dict[str, Any]) -> None:
    lists = DynamoDBExclusionRepository(clients["dynamodb"], physical(aws, "DataExclusionsTable"))
    hashes = [f"k1:{i:04d}" for i in range(60)]  # more than one BatchWriteItem
    assert lists.add(ExclusionSource.ASN, [*hashes, hashes[0]], NOW) == 60
    lists.add(ExclusionSource.PRIORITY, [hashes[59]], NOW)
    assert lists.sources_for(hashes[0]) == {"ASN"}
    assert lists.sources_for(hashes[59]) == {"ASN", "PRIORITY"}
    assert lists.sources_for("k1:unknown") == frozenset()


def test_personal_data_is_encrypted_and_bound_to_its_record(aws: Resources, clients: dict[str, Any]) -> None:
    cipher = KmsCipher(clients["kms"], str(aws.find("DataPersonalDataKey").arn))
    secret = b'{"nik": "3201234567890001"}'
    ciphertext = cipher.encrypt(secret, {"applicant_id": "a1"})
    assert b"3201234567890001" not in base64.b64decode(ciphertext)
    assert cipher.decrypt(ciphertext, {"applicant_id": "a1"}) == secret
    with pytest.raises(ClientError):
        cipher.decrypt(ciphertext, {"applicant_id": "a2"})


def test_hashing_key_comes_from_the_stack_secret(aws: Resources, clients: dict[str, Any]) -> None:
    hasher = load_keyring(clients["secretsmanager"], str(aws.find("DataPersonalDataHashingKey").ref))
    again = load_keyring(clients["secretsmanager"], str(aws.find("DataPersonalDataHashingKey").ref))
    digest = hasher.digest("nik", "3201234567890001")
    assert digest == again.digest("nik", "3201234567890001")
    assert digest.startswith("k1:") and "3201234567890001" not in digest


def test_workflow_starts_once_per_applicant_and_attempt(aws: Resources, clients: dict[str, Any]) -> None:
    """One execution per attempt, named after the applicant (then ``-r<attempt>``): a retried start
    is harmless, a restart of the checks (a correction, REVERIFY) is a run of its own."""
    sfn = clients["stepfunctions"]
    arn = str(aws.find("RegistrationWorkflowStateMachine", "AWS::StepFunctions::StateMachine").ref)
    starter = StepFunctionsStarter(sfn, arn)
    assert not starter.is_running("applicant-1", 1)  # never started
    starter.start("applicant-1")
    starter.start("applicant-1")
    starter.start("applicant-1", 2)
    starter.start("applicant-1", 2)
    executions = sorted(sfn.list_executions(stateMachineArn=arn)["executions"], key=lambda e: e["name"])
    assert [e["name"] for e in executions] == ["applicant-1", "applicant-1-r2"]
    inputs = [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in executions]
    assert inputs == [{"applicant_id": "applicant-1", "attempt": 1}, {"applicant_id": "applicant-1", "attempt": 2}]
    # Whether an attempt is still going is what Step Functions says of its execution.
    for execution in executions:
        running = sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING"
        assert starter.is_running("applicant-1", 2 if execution["name"].endswith("-r2") else 1) == running


def test_a_registration_execution_names_the_api_request_that_started_it(
    aws: Resources, clients: dict[str, Any]
) -> None:
    arn = str(aws.find("RegistrationWorkflowStateMachine", "AWS::StepFunctions::StateMachine").ref)
    StepFunctionsStarter(clients["stepfunctions"], arn, request_id=lambda: "req-7f3a").start("applicant-2")
    (execution,) = clients["stepfunctions"].list_executions(stateMachineArn=arn)["executions"]
    started = clients["stepfunctions"].describe_execution(executionArn=execution["executionArn"])
    assert json.loads(started["input"]) == {"applicant_id": "applicant-2", "attempt": 1, "request_id": "req-7f3a"}
