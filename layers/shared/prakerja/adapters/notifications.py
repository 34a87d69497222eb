"""The notifier's adapters: phones from the encrypted profiles, SMS through SNS, and the
outbox's record of what was sent."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from prakerja.adapters.dynamodb import to_item, ts, value
from prakerja.notifications import OutboxMessage
from prakerja.registration.ports import ApplicantRepository
from prakerja.registration.service import PersonalDataVault

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sns import SNSClient


class ProfilePhoneBook:
    def __init__(self, applicants: ApplicantRepository, vault: PersonalDataVault) -> None:
        self._applicants = applicants
        self._vault = vault

    def phone_of(self, applicant_id: str) -> tuple[str, int | None] | None:
        record = self._applicants.get(applicant_id)
        if record is None:
            return None
        return self._vault.open(record).phone, record.card.training_balance if record.card else None


class SnsSmsSender:
    def __init__(self, client: SNSClient, sender_id: str = "PRAKERJA") -> None:
        self._sns = client
        self._sender_id = sender_id

    def send(self, phone_e164: str, text: str) -> None:
        self._sns.publish(
            PhoneNumber=phone_e164,
            Message=text,
            MessageAttributes={
                # Transactional: delivered ahead of promotional traffic, even to opted-out numbers.
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": self._sender_id},
            },
        )


class DynamoDBOutbox:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def mark_sent(self, message: OutboxMessage, at: datetime) -> bool:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=to_item({"pk": message.pk, "sk": message.sk}),
                UpdateExpression="SET sent_at = :at",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(sent_at)",
                ExpressionAttributeValues={":at": value(ts(at))},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
