"""The notifier's handler on moto: a stream record of a new outbox message becomes one SMS to
the number decrypted from the profile, and the message is marked sent."""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, replace
from datetime import date
from types import ModuleType
from typing import Any

import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from localcloud.provision import Resources
from prakerja.adapters.dynamodb import from_item, to_item
from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.adapters.dynamodb_outcomes import DynamoDBOutcomeWriter
from prakerja.adapters.kms_cipher import KmsCipher
from prakerja.registration.models import ApplicantStatus
from prakerja.registration.records import AssessmentRecord, PersonalData
from prakerja.registration.service import PersonalDataVault
from prakerja.selection.ports import Settlement
from tests.fakes import FixedClock
from tests.integration.conftest import REGION, physical
from tests.integration.test_applicant_repository import NOW, applicant

PHONE = "081298765432"


@dataclass
class Context:
    function_name: str = "notifier"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:notifier"
    aws_request_id: str = "request-1"


@pytest.fixture
def handler(aws: Resources, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("APPLICANTS_TABLE", physical(aws, "DataApplicantsTable"))
    monkeypatch.setenv("OUTBOX_TABLE", physical(aws, "DataOutboxTable"))
    monkeypatch.setenv("PERSONAL_DATA_KEY_ARN", str(aws.find("DataPersonalDataKey", "AWS::KMS::Key").arn))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Prakerja")
    sys.modules.pop("notifier.handler", None)
    module = importlib.import_module("notifier.handler")  # cold start inside moto
    # The process-wide Metrics may have been created by an earlier test, before the namespace was set.
    monkeypatch.setattr(module.metrics, "namespace", "Prakerja")
    return module


def stream_event(*items: dict[str, Any], event_name: str = "INSERT") -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventID": str(i),
                "eventName": event_name,
                "eventSource": "aws:dynamodb",
                "awsRegion": REGION,
                "dynamodb": {
                    "Keys": {"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}},
                    "NewImage": to_item(item),
                    "SequenceNumber": str(100 + i),
                    "StreamViewType": "NEW_IMAGE",
                },
                "eventSourceARN": f"arn:aws:dynamodb:{REGION}:{DEFAULT_ACCOUNT_ID}:table/outbox/stream/2026",
            }
            for i, item in enumerate(items)
        ]
    }


def in_wave_applicant(aws: Resources, clients: dict[str, Any]) -> None:
    """a-1, with an encrypted profile holding PHONE, IN_WAVE of wave-1."""
    db = clients["dynamodb"]
    applicants_table = physical(aws, "DataApplicantsTable")
    vault = PersonalDataVault(KmsCipher(clients["kms"], str(aws.find("DataPersonalDataKey", "AWS::KMS::Key").arn)))
    personal = PersonalData(
        nik="3273010101900001",
        kk_number="3273010101900002",
        full_name="Siti Aminah",
        date_of_birth=date(1990, 1, 1),
        phone=PHONE,
        email="siti@example.com",
    )
    repo = DynamoDBApplicantRepository(db, applicants_table)
    repo.create(replace(applicant("a-1"), personal_data=vault.seal("a-1", personal)))
    repo.decide("a-1", ApplicantStatus.VERIFIED, [], NOW)
    repo.record_assessment("a-1", AssessmentRecord(80, True, 1, NOW))
    db.update_item(
        TableName=applicants_table,
        Key=to_item({"pk": "APPLICANT#a-1", "sk": "PROFILE"}),
        UpdateExpression="SET #s = :in_wave, wave_id = :w",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":in_wave": {"S": "IN_WAVE"}, ":w": {"S": "wave-1"}},
    )


def test_a_new_message_is_texted_once(aws: Resources, clients: dict[str, Any], handler: ModuleType) -> None:
    in_wave_applicant(aws, clients)
    db = clients["dynamodb"]
    applicants_table, outbox_table = physical(aws, "DataApplicantsTable"), physical(aws, "DataOutboxTable")
    ledger = DynamoDBLedger(db, physical(aws, "DataLedgerTable"))
    writer = DynamoDBOutcomeWriter(db, applicants_table, outbox_table, FixedClock(), ledger, threads=1)
    writer.settle([Settlement("a-1", "wave-1", ApplicantStatus.NOT_SELECTED)])
    (item,) = (from_item(i) for i in db.scan(TableName=outbox_table)["Items"])

    result = handler.lambda_handler(stream_event(item), Context())
    assert result == {"batchItemFailures": []}
    texts = sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages
    assert [(phone, "belum terpilih" in text) for phone, text, *_ in texts.values()] == [("+6281298765432", True)]
    (marked,) = (from_item(i) for i in db.scan(TableName=outbox_table)["Items"])
    assert marked["sent_at"]

    # The same record delivered again (at-least-once) and our own MODIFY: no second text.
    handler.lambda_handler(stream_event(marked, event_name="MODIFY"), Context())
    assert len(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages) == 1


def test_a_record_that_cannot_be_sent_is_reported_for_a_retry(
    aws: Resources, clients: dict[str, Any], handler: ModuleType
) -> None:
    in_wave_applicant(aws, clients)
    good = {
        "pk": "APPLICANT#a-1",
        "sk": "WAVE_RESULT#wave-1",
        "kind": "WAVE_RESULT",
        "applicant_id": "a-1",
        "wave_id": "wave-1",
        "status": "NOT_SELECTED",
    }
    unknown = {**good, "sk": "X#1", "kind": "UNKNOWN"}
    result = handler.lambda_handler(stream_event(unknown, good), Context())
    assert result == {"batchItemFailures": [{"itemIdentifier": "100"}]}  # only the unknown one is retried
    assert len(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages) == 1
