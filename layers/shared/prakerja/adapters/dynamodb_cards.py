"""Cards due for revocation, found without a scan.

A profile with an unused card carries ``card_due = "<wave id>#<shard>"``: it is set with the
card and removed by its first purchase (and by revocation), so the sparse ``CardsDue`` index on
the applicants table holds exactly the unused cards, in 64 partitions per wave (a wave's
800,000 cards would overload one index partition when they are written).

A shard is read a page at a time; the cursor between pages is the index position of the page's
last card (its ``card_due``, ``pk`` and ``sk``: keys only, no personal data), urlsafe base64 of
compact JSON. It stays valid once that card has left the index: DynamoDB starts after the
position, not after the item.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prakerja.adapters import keys
from prakerja.adapters.dynamodb import outbox_message, to_item, transact, ts, value
from prakerja.adapters.dynamodb_applicants import profile_key
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.ledger.postings import Account, Posting
from prakerja.registration.models import BLACKLIST, ApplicantStatus
from prakerja.registration.records import ApplicantRecord
from prakerja.waves.models import participant_shard

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

CARDS_DUE_INDEX = "CardsDue"
CARD_REVOKED = "CARD_REVOKED"
NO_FIRST_PURCHASE = "NO_FIRST_PURCHASE"  # revoked by the sweep
REVOKED_BY_OPS = "REVOKED_BY_OPS"  # an approved REVOKE_CARD (prakerja.cases)
_CURSOR_KEYS = {"card_due", "pk", "sk"}  # the index's key and the table's: a position, nothing else


def card_due_key(wave_id: str, applicant_id: str) -> str:
    return keys.cards_due_partition(wave_id, participant_shard(applicant_id))


def encode_cursor(last_evaluated_key: dict[str, Any]) -> str:
    """The cursor after a page of the index: its LastEvaluatedKey (string keys only)."""
    position = {name: key["S"] for name, key in last_evaluated_key.items()}
    if set(position) != _CURSOR_KEYS:
        raise ValueError(f"not a position in {CARDS_DUE_INDEX}: {sorted(position)}")
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":"), sort_keys=True).encode()).decode()


def decode_cursor(cursor: str, partition: str) -> dict[str, Any]:
    """The ExclusiveStartKey back from a cursor, refused unless issued for this partition."""
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error) as error:
        raise ValueError("not a cursor of the due cards") from error
    if (
        not isinstance(position, dict)
        or set(position) != _CURSOR_KEYS
        or not all(isinstance(key, str) for key in position.values())
        or position["card_due"] != partition
    ):
        raise ValueError(f"not a cursor of the due cards of {partition}")
    return {name: value(key) for name, key in position.items()}


class DynamoDBDueCards:
    def __init__(
        self,
        client: DynamoDBClient,
        applicants_table: str,
        exclusions_table: str,
        outbox_table: str,
        ledger: DynamoDBLedger,
    ) -> None:
        self._db = client
        self._applicants = applicants_table
        self._exclusions = exclusions_table
        self._outbox = outbox_table
        self._ledger = ledger

    def due(self, wave_id: str, shard: int, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        partition = keys.cards_due_partition(wave_id, shard)
        query: dict[str, Any] = {
            "TableName": self._applicants,
            "IndexName": CARDS_DUE_INDEX,
            "KeyConditionExpression": "card_due = :due",
            "ExpressionAttributeValues": {":due": value(partition)},
            "Limit": limit,
        }
        if cursor is not None:
            query["ExclusiveStartKey"] = decode_cursor(cursor, partition)
        response = self._db.query(**query)
        ids = [keys.applicant_of(item["pk"]["S"]) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return ids, encode_cursor(last) if last else None

    def revoke(self, applicant: ApplicantRecord, posting: Posting | None, at: datetime) -> bool:
        return not transact(self._db, self.revocation(applicant, posting, at, NO_FIRST_PURCHASE))

    def revocation(
        self, applicant: ApplicantRecord, posting: Posting | None, at: datetime, why: str
    ) -> list[TransactWriteItemTypeDef]:
        """The items of one card's revocation, for this sweep and for an ops REVOKE_CARD
        (adapters/dynamodb_cases.py), which writes them in its action's transaction: REVOKED,
        blacklisted, balance to zero, the CARD_REVOKED posting (once per card: its id is the
        card's) and the notification. Conditioned on the card being as read (still SELECTED, the
        same balance); the sweep's (``why`` NO_FIRST_PURCHASE) also on it being unused."""
        card = applicant.card
        assert card is not None
        condition = "#status = :selected AND card.card_number = :card AND card.training_balance = :balance"
        if why == NO_FIRST_PURCHASE:
            condition += " AND attribute_not_exists(card.first_purchase_at)"
        items: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self._applicants,
                    "Key": profile_key(applicant.applicant_id),
                    "UpdateExpression": "SET #status = :revoked, card.training_balance = :zero, "
                    "card.revoked_at = :at, card.revocation = :why, updated_at = :at REMOVE card_due",
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":revoked": value(ApplicantStatus.REVOKED.value),
                        ":selected": value(ApplicantStatus.SELECTED.value),
                        ":zero": value(0),
                        ":at": value(ts(at)),
                        ":why": value(why),
                        ":card": value(card.card_number),
                        ":balance": value(card.training_balance),
                    },
                }
            },
            {
                "Put": {
                    "TableName": self._outbox,
                    "Item": to_item(
                        outbox_message(
                            CARD_REVOKED, applicant.applicant_id, card.wave_id, ApplicantStatus.REVOKED.value, at
                        )
                    ),
                }
            },
        ]
        # Blacklisted: registration refuses this NIK from now on (BLACKLISTED), under every key.
        for nik_hash in dict.fromkeys(applicant.nik_hashes):
            blacklisted = {"nik_hash": nik_hash, "source": BLACKLIST, "added_at": ts(at), "reason": CARD_REVOKED}
            items.append({"Put": {"TableName": self._exclusions, "Item": to_item(blacklisted)}})
        if posting is not None:
            items.extend(self._ledger.writes(posting, {Account.card(card.card_number): 0}))
        return items
