"""The notifier's adapters: phones from the encrypted profiles, SMS through SNS, and the
outbox's claims and record of what was sent."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from prakerja.adapters.dynamodb import CONDITION_FAILED_ERROR, conditional, to_item, ts, value
from prakerja.notifications import Claim, OutboxMessage
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
    """Claims and sends recorded on the outbox item: ``claimed_by`` (a delivery's random id),
    ``claimed_at``, ``claim_expires_at`` (epoch seconds) and ``sent_at``. Each change is one
    conditional write, so two deliveries of a message cannot both win it."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def _key(self, message: OutboxMessage) -> dict[str, Any]:
        return to_item({"pk": message.pk, "sk": message.sk})

    def claim(self, message: OutboxMessage, claimant: str, at: datetime, until: datetime) -> Claim:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._key(message),
                UpdateExpression="SET claimed_by = :me, claimed_at = :at, claim_expires_at = :until",
                ConditionExpression=(
                    "attribute_exists(pk) AND attribute_not_exists(sent_at)"
                    " AND (attribute_not_exists(claim_expires_at) OR claim_expires_at <= :now)"
                ),
                ExpressionAttributeValues={
                    ":me": value(claimant),
                    ":at": value(ts(at)),
                    # Rounded to keep the claim: it lapses no sooner than ``until``.
                    ":until": value(math.ceil(until.timestamp())),
                    ":now": value(math.floor(at.timestamp())),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != CONDITION_FAILED_ERROR:
                raise
            found: dict[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
            if not found:
                return Claim.GONE
            return Claim.SENT if "sent_at" in found else Claim.HELD
        return Claim.WON

    def release(self, message: OutboxMessage, claimant: str) -> bool:
        return conditional(
            lambda: self._db.update_item(
                TableName=self._table,
                Key=self._key(message),
                UpdateExpression="REMOVE claimed_by, claimed_at, claim_expires_at",
                ConditionExpression="claimed_by = :me AND attribute_not_exists(sent_at)",
                ExpressionAttributeValues={":me": value(claimant)},
            )
        )

    def mark_sent(self, message: OutboxMessage, at: datetime) -> bool:
        return conditional(
            lambda: self._db.update_item(
                TableName=self._table,
                Key=self._key(message),
                UpdateExpression="SET sent_at = :at",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(sent_at)",
                ExpressionAttributeValues={":at": value(ts(at))},
            )
        )
