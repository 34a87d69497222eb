"""Ops actions in DynamoDB (the cases table; prakerja.cases).

Items:
- ``ACTION#<action id> / ACTION``: the action. While it waits for a second person it also
  carries ``approval_queue`` (keys.ACTIONS_PENDING) and ``pending_since``: the sparse index
  ``ActionsPending`` holds exactly the waiting actions, oldest first, so the approvals queue is
  a query, never a scan (one partition: a few hundred wait at most, far below its limits).
- ``APPLICANT#<applicant id> / ACTION#<requested at>#<action id>``: a copy of it in its
  applicant's partition, rewritten with it: the case view lists an applicant's actions with one
  query (``actions_of``).

Every change is one transaction, in named parts: the action (new, or still in the status it was
read in), its copy, its audit entries (DynamoDBAuditLog.put) and what it changes elsewhere:
- REVOKE_CARD: the card-deadline sweep's own revocation items (DynamoDBDueCards.revocation: the
  profile, blacklist, outbox and the CARD_REVOKED ledger posting, each conditioned as there);
- LIFT_BLACKLIST: the NIK's BLACKLIST items deleted, each on condition that it is there;
- HOLD_PAYOUTS / RELEASE_PAYOUTS: the payouts table's hold item put if absent / deleted if
  present (keys.payout_hold; the payout workflow checks it, dynamodb_payouts.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from prakerja.adapters import keys
from prakerja.adapters.dynamodb import Transaction, decode_token, encode_token, from_item, to_item, ts, value
from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository
from prakerja.adapters.dynamodb_audit import DynamoDBAuditLog
from prakerja.adapters.dynamodb_cards import REVOKED_BY_OPS, DynamoDBDueCards
from prakerja.audit.models import AuditEntry
from prakerja.cases.models import Action, ActionStatus
from prakerja.cases.ports import Effect, HoldPayouts, LiftBlacklist, ReleasePayouts, RevokeCard, Saved
from prakerja.registration.models import BLACKLIST
from prakerja.registration.records import ApplicantRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

PENDING_INDEX = "ActionsPending"
_FIELDS = set(Action.model_fields)
_PENDING_POSITION = {"approval_queue", "pending_since", "pk", "sk"}


class DynamoDBCases:
    def __init__(
        self,
        client: DynamoDBClient,
        cases_table: str,
        audit: DynamoDBAuditLog,
        cards: DynamoDBDueCards,
        exclusions_table: str,
        payouts_table: str,
    ) -> None:
        self._db = client
        self._table = cases_table
        self._audit = audit
        self._cards = cards
        self._exclusions = exclusions_table
        self._payouts = payouts_table

    # -- reading ---------------------------------------------------------------------------------
    def get(self, action_id: str) -> Action | None:
        item = self._db.get_item(TableName=self._table, Key=to_item(keys.action(action_id)), ConsistentRead=True)
        return _action(from_item(item["Item"])) if "Item" in item else None

    def actions_of(self, applicant_id: str) -> list[Action]:
        found: list[Action] = []
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :action)",
            ExpressionAttributeValues={
                ":pk": value(keys.applicant_partition(applicant_id)),
                ":action": value(keys.ACTION),
            },
        )
        for page in pages:
            found.extend(_action(from_item(item)) for item in page.get("Items", []))
        return found

    def pending(self, limit: int, next_token: str | None) -> tuple[list[Action], str | None]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": PENDING_INDEX,
            "KeyConditionExpression": "approval_queue = :queue",
            "ExpressionAttributeValues": {":queue": value(keys.ACTIONS_PENDING)},
            "Limit": limit,
        }
        if next_token:
            query["ExclusiveStartKey"] = decode_token(
                next_token, keys.ACTIONS_PENDING, partition_key="approval_queue", names=_PENDING_POSITION
            )
        response = self._db.query(**query)
        last = response.get("LastEvaluatedKey")
        actions = [_action(from_item(item)) for item in response.get("Items", [])]
        return actions, encode_token(last) if last else None

    # -- writing ---------------------------------------------------------------------------------
    def save(
        self, action: Action, previous: ActionStatus | None, entries: Sequence[AuditEntry], effect: Effect | None
    ) -> Saved:
        item = _item(action)
        put: dict[str, Any] = {"TableName": self._table, "Item": to_item({**keys.action(action.action_id), **item})}
        if previous is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put |= {
                "ConditionExpression": "#status = :previous",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":previous": value(str(previous))},
            }
        requested_at = ts(action.requested_at)
        queued = {"approval_queue", "pending_since"}  # the action only: one queue entry per action
        fields = {name: field for name, field in item.items() if name not in queued}
        copy = {**keys.applicant_action(action.applicant_id, requested_at, action.action_id), **fields}
        transaction = (
            Transaction()
            .add("action", {"Put": put})  # type: ignore[typeddict-item]
            .add("copy", {"Put": {"TableName": self._table, "Item": to_item(copy)}})
            .add("audit", *(self._audit.put(entry) for entry in entries))
            .add("effect", *self._effect(effect))
        )
        cancelled = transaction.write(self._db)
        if cancelled is None:
            return Saved.SAVED
        if cancelled.failed("action"):
            return Saved.STATUS_CHANGED
        if cancelled.failed("effect"):
            return Saved.EFFECT_REFUSED
        raise AssertionError(f"an audit entry of action {action.action_id} existed already: {cancelled}")

    def _effect(self, effect: Effect | None) -> list[TransactWriteItemTypeDef]:
        match effect:
            case None:
                return []
            case RevokeCard(applicant=applicant, posting=posting, at=at):
                return self._cards.revocation(applicant, posting, at, REVOKED_BY_OPS)
            case LiftBlacklist(nik_hashes=hashes):
                return [
                    {
                        "Delete": {
                            "TableName": self._exclusions,
                            "Key": to_item({"nik_hash": h, "source": BLACKLIST}),
                            "ConditionExpression": "attribute_exists(nik_hash)",
                        }
                    }
                    for h in dict.fromkeys(hashes)
                ]
            case HoldPayouts(applicant_id=applicant_id, action_id=action_id, at=at):
                hold = {**keys.payout_hold(applicant_id), "action_id": action_id, "held_at": ts(at)}
                return [
                    {
                        "Put": {
                            "TableName": self._payouts,
                            "Item": to_item(hold),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                ]
            case ReleasePayouts(applicant_id=applicant_id):
                return [
                    {
                        "Delete": {
                            "TableName": self._payouts,
                            "Key": to_item(keys.payout_hold(applicant_id)),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    }
                ]


class DynamoDBCaseFacts:
    """The reads that decide whether an action applies: the profile (never decrypted), the
    NIK's BLACKLIST items, the hold item."""

    def __init__(
        self, client: DynamoDBClient, applicants: DynamoDBApplicantRepository, exclusions_table: str, payouts_table: str
    ) -> None:
        self._db = client
        self._applicants = applicants
        self._exclusions = exclusions_table
        self._payouts = payouts_table

    def applicant(self, applicant_id: str) -> ApplicantRecord | None:
        return self._applicants.get(applicant_id)

    def blacklisted(self, nik_hashes: Sequence[str]) -> tuple[str, ...]:
        listed = []
        for nik_hash in dict.fromkeys(nik_hashes):
            item = self._db.get_item(
                TableName=self._exclusions,
                Key=to_item({"nik_hash": nik_hash, "source": BLACKLIST}),
                ConsistentRead=True,
            ).get("Item")
            if item:
                listed.append(nik_hash)
        return tuple(listed)

    def payouts_held(self, applicant_id: str) -> bool:
        item = self._db.get_item(
            TableName=self._payouts, Key=to_item(keys.payout_hold(applicant_id)), ConsistentRead=True
        ).get("Item")
        return item is not None


def _item(action: Action) -> dict[str, Any]:
    fields = action.model_dump(mode="json", exclude_none=True)
    fields["requested_at"] = ts(action.requested_at)
    if action.decided_at is not None:
        fields["decided_at"] = ts(action.decided_at)
    if action.status is ActionStatus.PENDING_APPROVAL:
        fields |= {
            "approval_queue": keys.ACTIONS_PENDING,
            "pending_since": keys.pending_since(ts(action.requested_at), action.action_id),
        }
    return fields


def _action(item: dict[str, Any]) -> Action:
    return Action.model_validate({k: v for k, v in item.items() if k in _FIELDS})
