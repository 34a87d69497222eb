"""The notifier's handler on moto: a stream record of a new outbox message becomes one SMS to
the number decrypted from the profile, and the message is marked sent; the outbox's claims are
conditional writes that one delivery of a message wins, however often the stream brings it."""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from localcloud.provision import Resources
from prakerja.adapters.dynamodb import from_item, outbox_message, to_item
from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.adapters.dynamodb_outcomes import DynamoDBOutcomeWriter
from prakerja.adapters.kms_cipher import KmsCipher
from prakerja.adapters.notifications import DynamoDBOutbox, SnsSmsSender
from prakerja.notifications import CLAIM_LEASE, Claim, OutboxMessage
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
    outbox_table = physical(aws, "DataOutboxTable")
    for item in (unknown, good):  # as the stream brings them: written to the outbox
        clients["dynamodb"].put_item(TableName=outbox_table, Item=to_item(item))
    result = handler.lambda_handler(stream_event(unknown, good), Context())
    assert result == {"batchItemFailures": [{"itemIdentifier": "100"}]}  # only the unknown one is retried
    assert len(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages) == 1
    assert "claimed_by" not in stored(clients["dynamodb"], outbox_table, unknown)  # its retry is not kept off


def sms_sent() -> list[tuple[str, str]]:
    return [(phone, text) for phone, text, *_ in sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values()]


def outbox_item(db: Any, table: str, kind: str = "WAVE_RESULT") -> dict[str, Any]:
    """A new message for a-1 in the outbox (as the selection or the card deadlines write it)."""
    item = outbox_message(kind, "a-1", "wave-1", "NOT_SELECTED", datetime(2026, 11, 22, tzinfo=UTC))
    db.put_item(TableName=table, Item=to_item(item))
    return item


def stored(db: Any, table: str, item: dict[str, Any]) -> dict[str, Any]:
    key = to_item({"pk": item["pk"], "sk": item["sk"]})
    return from_item(db.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"])


def test_of_two_claims_the_second_loses_until_the_first_lapses(aws: Resources, clients: dict[str, Any]) -> None:
    db, table = clients["dynamodb"], physical(aws, "DataOutboxTable")
    item = outbox_item(db, table)
    message = OutboxMessage.of(item)
    outbox, at = DynamoDBOutbox(db, table), datetime(2026, 11, 22, 3, tzinfo=UTC)
    assert outbox.claim(message, "first", at, at + CLAIM_LEASE) is Claim.WON
    assert outbox.claim(message, "second", at, at + CLAIM_LEASE) is Claim.HELD
    just_before = at + CLAIM_LEASE - timedelta(seconds=1)
    assert outbox.claim(message, "second", just_before, just_before + CLAIM_LEASE) is Claim.HELD
    assert stored(db, table, item)["claimed_by"] == "first"
    assert not outbox.release(message, "second")  # not its claim to give back
    # The first never texted (it crashed): once its lease is over, a later delivery takes it.
    assert outbox.claim(message, "second", at + CLAIM_LEASE, at + 2 * CLAIM_LEASE) is Claim.WON
    assert not outbox.release(message, "first")  # the lapsed claimant cannot free the new claim
    claimed = stored(db, table, item)
    assert claimed["claimed_by"] == "second"
    assert claimed["claim_expires_at"] == int((at + 2 * CLAIM_LEASE).timestamp())


def test_a_claim_given_back_can_be_taken_at_once(aws: Resources, clients: dict[str, Any]) -> None:
    db, table = clients["dynamodb"], physical(aws, "DataOutboxTable")
    item = outbox_item(db, table)
    message = OutboxMessage.of(item)
    outbox, at = DynamoDBOutbox(db, table), datetime(2026, 11, 22, 3, tzinfo=UTC)
    assert outbox.claim(message, "first", at, at + CLAIM_LEASE) is Claim.WON
    assert outbox.release(message, "first")
    assert "claimed_by" not in stored(db, table, item)
    assert outbox.claim(message, "second", at, at + CLAIM_LEASE) is Claim.WON


def test_a_sent_message_cannot_be_claimed_or_marked_again(aws: Resources, clients: dict[str, Any]) -> None:
    db, table = clients["dynamodb"], physical(aws, "DataOutboxTable")
    item = outbox_item(db, table)
    message = OutboxMessage.of(item)
    outbox, at = DynamoDBOutbox(db, table), datetime(2026, 11, 22, 3, tzinfo=UTC)
    assert outbox.claim(message, "first", at, at + CLAIM_LEASE) is Claim.WON
    assert outbox.mark_sent(message, at)
    assert not outbox.mark_sent(message, at)
    later = at + 10 * CLAIM_LEASE  # lapsed or not, a sent message stays sent
    assert outbox.claim(message, "second", later, later + CLAIM_LEASE) is Claim.SENT
    assert not outbox.release(message, "first")
    assert stored(db, table, item)["sent_at"] == at.isoformat()


def test_a_message_no_longer_in_the_outbox_cannot_be_claimed(aws: Resources, clients: dict[str, Any]) -> None:
    db, table = clients["dynamodb"], physical(aws, "DataOutboxTable")
    message = OutboxMessage.of(outbox_message("WAVE_RESULT", "a-9", "wave-1", "SELECTED", datetime.now(UTC)))
    at = datetime(2026, 11, 22, 3, tzinfo=UTC)
    assert DynamoDBOutbox(db, table).claim(message, "first", at, at + CLAIM_LEASE) is Claim.GONE
    assert db.scan(TableName=table)["Count"] == 0  # the claim did not create the item


def test_a_batch_delivered_again_texts_each_message_once(
    aws: Resources, clients: dict[str, Any], handler: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partial failure brings its SMS back, never two: the retried batch (whole, as after a
    timeout) skips what was sent, and sends what failed."""
    in_wave_applicant(aws, clients)
    db, table = clients["dynamodb"], physical(aws, "DataOutboxTable")
    result, revoked = outbox_item(db, table), outbox_item(db, table, kind="CARD_REVOKED")
    publish = SnsSmsSender.send

    def down_for_revocations(self: SnsSmsSender, phone_e164: str, text: str) -> None:
        if "dicabut" in text:
            raise ConnectionError("SNS unavailable")
        publish(self, phone_e164, text)

    monkeypatch.setattr(SnsSmsSender, "send", down_for_revocations)
    assert handler.lambda_handler(stream_event(result, revoked), Context()) == {
        "batchItemFailures": [{"itemIdentifier": "101"}]
    }
    assert [("belum terpilih" in text) for _, text in sms_sent()] == [True]
    assert "claimed_by" not in stored(db, table, revoked)  # given back: the retry need not wait

    monkeypatch.setattr(SnsSmsSender, "send", publish)
    for _ in range(2):  # the retry, and the same batch once more (at least once)
        assert handler.lambda_handler(stream_event(result, revoked), Context()) == {"batchItemFailures": []}
    texts = sms_sent()
    assert len(texts) == 2 and {phone for phone, _ in texts} == {"+6281298765432"}
    assert [("belum terpilih" in text, "dicabut" in text) for _, text in texts] == [(True, False), (False, True)]
    assert all(stored(db, table, item).get("sent_at") for item in (result, revoked))


def test_a_message_claimed_by_a_running_delivery_is_retried_not_texted(
    aws: Resources, clients: dict[str, Any], handler: ModuleType
) -> None:
    in_wave_applicant(aws, clients)
    db, table = clients["dynamodb"], physical(aws, "DataOutboxTable")
    item, other = outbox_item(db, table), outbox_item(db, table, kind="CARD_REVOKED")
    now = datetime.now(UTC)
    assert DynamoDBOutbox(db, table).claim(OutboxMessage.of(item), "running", now, now + CLAIM_LEASE) is Claim.WON

    result = handler.lambda_handler(stream_event(item, other), Context())
    assert result == {"batchItemFailures": [{"itemIdentifier": "100"}]}
    assert ["dicabut" in text for _, text in sms_sent()] == [True]  # only the other message
    assert stored(db, table, item)["claimed_by"] == "running"

    # That delivery crashed before texting: after its lease, the stream's retry sends it, once.
    db.update_item(
        TableName=table,
        Key=to_item({"pk": item["pk"], "sk": item["sk"]}),
        UpdateExpression="SET claim_expires_at = :lapsed",
        ExpressionAttributeValues={":lapsed": {"N": str(int(now.timestamp()) - 1)}},
    )
    for _ in range(2):
        assert handler.lambda_handler(stream_event(item, other), Context()) == {"batchItemFailures": []}
    assert sorted("belum terpilih" in text for _, text in sms_sent()) == [False, True]
