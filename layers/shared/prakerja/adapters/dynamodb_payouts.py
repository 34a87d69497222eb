"""Payout accounts, payouts and survey responses in DynamoDB (the payouts table).

Items:
- ``APPLICANT#<id> / ACCOUNT``: the linked payout account (its number encrypted).
- ``APPLICANT#<id> / PAYOUT#<payout id>``: one incentive payment and its latest transfer. A
  payout the runs should collect carries ``queue`` (one of QUEUE_SHARDS values) and
  ``due_at``: the sparse index ``PayoutsDue`` lists exactly those, by due time. A FAILED
  payout carries ``failed_with`` (its failure code): the sparse index ``PayoutsFailed`` lists
  exactly those, one partition per code, by ``failed_at``.
- ``APPLICANT#<id> / SURVEY#<survey id>``: a survey response (once).
- ``APPLICANT#<id> / HOLD``: ops hold this applicant's payouts (HOLD_PAYOUTS, written by
  adapters/dynamodb_cases.py); a transfer begins only while it is absent (``begin_transfer``).
- ``TRANSFER#<transfer id> / GUARD``: which payout a transfer belongs to; put once, so a
  transfer id can never be claimed by two payouts or twice by one.
- ``RATE#<provider>#<unix second> / RATE``: requests sent to a partner in that second
  (expire by TTL).

Every status change of a payout is conditional on the status (and transfer attempt) it was
read in, and carries its ledger posting in the same transaction.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prakerja.adapters import keys
from prakerja.adapters.dynamodb import (
    Transaction,
    conditional,
    count_up_to,
    from_item,
    moment,
    query_page,
    to_item,
    transact,
    ts,
    value,
)
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.clock import Clock
from prakerja.errors import ValidationFailed
from prakerja.ledger.postings import Posting, entitlement
from prakerja.payouts.failures import FailedPayout
from prakerja.payouts.models import (
    AccountStatus,
    AccountType,
    FailureCode,
    IncentiveKind,
    PayoutAccount,
    PayoutRecord,
    PayoutStatus,
    Provider,
)
from prakerja.payouts.ports import AccountCheck, RateLimited

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

QUEUE_SHARDS = 16  # the due index's partitions: a run's collection reads them all
DUE_INDEX = "PayoutsDue"
FAILED_INDEX = "PayoutsFailed"
# What the failed payouts' index projects besides its keys (constructs/data.py): no account number.
FAILED_FIELDS = ("payout_id", "applicant_id", "kind", "tranche", "amount", "provider", "attempt")
_FAILED_POSITION = {"failed_with", "failed_at", "pk", "sk"}


def _payout_key(applicant_id: str, payout_id: str) -> dict[str, Any]:
    return to_item(keys.payout(applicant_id, payout_id))


def queue_of(payout_id: str) -> str:
    shard = int.from_bytes(hashlib.sha256(payout_id.encode()).digest()[:2], "big") % QUEUE_SHARDS
    return keys.payout_queue(shard)


class DynamoDBPayoutAccounts:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def account(self, applicant_id: str) -> PayoutAccount | None:
        item = self._db.get_item(
            TableName=self._table, Key=to_item(keys.payout_account(applicant_id)), ConsistentRead=True
        ).get("Item")
        return _account(from_item(item)) if item else None

    def link(self, applicant_id: str, account: PayoutAccount) -> bool:
        item = {
            **keys.payout_account(applicant_id),
            "type": str(account.type),
            "provider": str(account.provider),
            "account_cipher": account.account_cipher,
            "account_masked": account.account_masked,
            "status": str(account.status),
            "version": account.version,
            "linked_at": ts(account.linked_at),
        }
        previous = {":previous": value(account.version - 1)}
        return conditional(
            lambda: self._db.put_item(
                TableName=self._table,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(pk) OR version = :previous",
                ExpressionAttributeValues=previous,
            )
        )

    def record_check(self, applicant_id: str, version: int, check: AccountCheck, at: datetime) -> bool:
        values = {":status": value(str(check.status)), ":at": value(ts(at)), ":version": value(version)}
        update = "SET #status = :status, validated_at = :at"
        if check.reason:
            update += ", reason = :reason"
            values[":reason"] = value(check.reason)
        else:
            update += " REMOVE reason"
        return conditional(
            lambda: self._db.update_item(
                TableName=self._table,
                Key=to_item(keys.payout_account(applicant_id)),
                UpdateExpression=update,
                ConditionExpression="version = :version",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
            )
        )


class DynamoDBPayouts:
    def __init__(self, client: DynamoDBClient, table_name: str, ledger: DynamoDBLedger) -> None:
        self._db = client
        self._table = table_name
        self._ledger = ledger

    # -- reading ----------------------------------------------------------------------------------
    def get(self, applicant_id: str, payout_id: str) -> PayoutRecord | None:
        item = self._db.get_item(
            TableName=self._table, Key=_payout_key(applicant_id, payout_id), ConsistentRead=True
        ).get("Item")
        return _payout(from_item(item)) if item else None

    def page(self, applicant_id: str, limit: int, next_token: str | None) -> tuple[list[PayoutRecord], str | None]:
        partition = keys.applicant_partition(applicant_id)
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :payout)",
            "ExpressionAttributeValues": {":pk": value(partition), ":payout": value(keys.PAYOUT)},
            "Limit": limit,
            "ConsistentRead": True,
        }
        items, token = query_page(self._db, query, partition, next_token)
        return [_payout(i) for i in items], token

    def all_of(self, applicant_id: str) -> list[PayoutRecord]:
        found: list[PayoutRecord] = []
        token: str | None = None
        while True:
            page, token = self.page(applicant_id, 100, token)
            found.extend(page)
            if not token:
                return found

    def by_transfer(self, transfer_id: str) -> PayoutRecord | None:
        guard = self._db.get_item(
            TableName=self._table, Key=to_item(keys.transfer_guard(transfer_id)), ConsistentRead=True
        ).get("Item")
        if not guard:
            return None
        claimed = from_item(guard)
        return self.get(str(claimed["applicant_id"]), str(claimed["payout_id"]))

    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for shard in range(QUEUE_SHARDS):
            pages = self._db.get_paginator("query").paginate(
                TableName=self._table,
                IndexName=DUE_INDEX,
                KeyConditionExpression="#queue = :queue AND due_at <= :now",
                ExpressionAttributeNames={"#queue": "queue"},
                ExpressionAttributeValues={":queue": value(keys.payout_queue(shard)), ":now": value(ts(now))},
            )
            for page in pages:
                for item in page.get("Items", []):
                    key = from_item(item)
                    found.append((keys.applicant_of(str(key["pk"])), keys.payout_of(str(key["sk"]))))
                    if len(found) >= limit:
                        return found
        return found

    # -- writing ----------------------------------------------------------------------------------
    def grant(self, payouts: Sequence[PayoutRecord], postings: Sequence[Posting], payable: bool) -> bool:
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item(_payout_item(p.with_changes(queued=payable))),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for p in payouts
        ]
        for posting in postings:
            items.extend(self._ledger.writes(posting))
        return not transact(self._db, items)

    def answer_survey(
        self,
        applicant_id: str,
        survey_id: str,
        answers: list[dict[str, str]],
        payout: PayoutRecord | None,
        payable: bool,
        at: datetime,
    ) -> bool:
        response = {**keys.survey_response(applicant_id, survey_id), "answers": answers, "at": ts(at)}
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item(response),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        if payout is not None:
            items.append(
                {"Put": {"TableName": self._table, "Item": to_item(_payout_item(payout.with_changes(queued=payable)))}}
            )
            items.extend(self._ledger.writes(entitlement(payout.payout_id, applicant_id, payout.amount, at)))
        return not transact(self._db, items)

    def release(self, payout: PayoutRecord, attempt: int, at: datetime) -> bool:
        # A failed payout was due already (due_at then tracked its transfer); a scheduled one
        # keeps its tranche's date.
        due = at if payout.status == PayoutStatus.FAILED else max(payout.due_at, at)
        released = payout.with_changes(status=PayoutStatus.SCHEDULED, attempt=attempt, queued=True, due_at=due)
        return self._replace(payout, released, [])

    def begin_transfer(self, payout: PayoutRecord, started: PayoutRecord, sent: Posting) -> bool:
        guard = {
            **keys.transfer_guard(started.transfer_id),
            "applicant_id": started.applicant_id,
            "payout_id": started.payout_id,
        }
        claim: TransactWriteItemTypeDef = {
            "Put": {"TableName": self._table, "Item": to_item(guard), "ConditionExpression": "attribute_not_exists(pk)"}
        }
        # Not while ops hold the applicant's payouts: a hold put after the workflow's check and
        # before this write still stops the transfer (the payout stays SCHEDULED).
        not_held: TransactWriteItemTypeDef = {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": to_item(keys.payout_hold(started.applicant_id)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        return self._replace(payout, started, [claim, *self._ledger.writes(sent)], not_held)

    def held(self, applicant_id: str) -> bool:
        item = self._db.get_item(
            TableName=self._table, Key=to_item(keys.payout_hold(applicant_id)), ConsistentRead=True
        ).get("Item")
        return item is not None

    def replace(self, current: PayoutRecord, new: PayoutRecord, posting: Posting | None) -> bool:
        return self._replace(current, new, self._ledger.writes(posting) if posting else [])

    def _replace(
        self,
        current: PayoutRecord,
        new: PayoutRecord,
        also: Sequence[TransactWriteItemTypeDef],
        unless: TransactWriteItemTypeDef | None = None,
    ) -> bool:
        """The payout rewritten as ``new`` if it still is as ``current`` was read (status and
        attempt), in one transaction with ``also``; False (nothing written) if it was not, or if
        the check ``unless`` failed."""
        update: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._table,
                "Item": to_item(_payout_item(new)),
                "ConditionExpression": "#status = :status AND attempt = :attempt",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":status": value(str(current.status)),
                    ":attempt": value(current.attempt),
                },
            }
        }
        transaction = Transaction().add("payout", update).add("unless", *([unless] if unless else []))
        cancelled = transaction.add("also", *also).write(self._db)
        if cancelled is not None and not cancelled.failed("payout") and cancelled.failed("also"):
            raise AssertionError(f"a payout's ledger posting or transfer id existed already: {cancelled}")
        return cancelled is None


class DynamoDBTransferRateLimit:
    """At most ``per_second[provider]`` transfer requests to a partner in any wall-clock second,
    counted in one item per second (its partition is hot only for that second)."""

    def __init__(self, client: DynamoDBClient, table_name: str, per_second: dict[str, int], clock: Clock) -> None:
        self._db = client
        self._table = table_name
        self._per_second = per_second
        self._clock = clock

    def acquire(self, provider: Provider) -> None:
        limit = self._per_second.get(str(provider))
        if limit is None:
            return
        second = int(self._clock.now().timestamp())
        counted = count_up_to(self._db, self._table, keys.rate_counter(provider, second), limit, second + 3600)
        if not counted:
            raise RateLimited(str(provider))


class DynamoDBFailedPayouts:
    """The FAILED payouts, read through the sparse index ``PayoutsFailed`` only (ops)."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def page(
        self, codes: Sequence[FailureCode], limit: int, next_token: str | None
    ) -> tuple[list[FailedPayout], str | None]:
        start, position = _failed_position(codes, next_token) if next_token else (0, None)
        found: list[FailedPayout] = []
        for index in range(start, len(codes)):
            query: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": FAILED_INDEX,
                "KeyConditionExpression": "failed_with = :code",
                "ExpressionAttributeValues": {":code": value(str(codes[index]))},
                "ScanIndexForward": False,  # the newest failure first
                "Limit": limit - len(found),
            }
            if position:
                query["ExclusiveStartKey"] = position
            response = self._db.query(**query)
            found.extend(_failed(from_item(item)) for item in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if last:  # the page is full, or DynamoDB stopped at 1 MB: go on from there
                return found, _failed_token(codes[index], from_item(last))
            position = None
            if len(found) >= limit:
                more = index + 1 < len(codes)
                return found, _failed_token(codes[index + 1], None) if more else None
        return found, None

    def count(self, code: FailureCode) -> int:
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=FAILED_INDEX,
            KeyConditionExpression="failed_with = :code",
            ExpressionAttributeValues={":code": value(str(code))},
            Select="COUNT",
        )
        return sum(int(page["Count"]) for page in pages)


def _failed_token(code: FailureCode, position: dict[str, Any] | None) -> str:
    """Opaque: the code the next page starts in, and where in it (None: at its start)."""
    return base64.urlsafe_b64encode(json.dumps({"code": str(code), "after": position}).encode()).decode()


def _failed_position(codes: Sequence[FailureCode], token: str) -> tuple[int, dict[str, Any] | None]:
    """(index in ``codes``, ExclusiveStartKey) from a token this list issued, else 422."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        code = FailureCode(decoded["code"])
        after = decoded["after"]
        if after is not None and (
            not isinstance(after, dict) or set(after) != _FAILED_POSITION or after["failed_with"] != code
        ):
            raise ValueError("not a position in this list")
        return list(codes).index(code), to_item({k: str(v) for k, v in after.items()}) if after else None
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as error:
        raise ValidationFailed("NEXT_TOKEN_INVALID", "next_token is not one this API issued.") from error


def _failed(item: dict[str, Any]) -> FailedPayout:
    return FailedPayout(
        payout_id=str(item["payout_id"]),
        applicant_id=str(item["applicant_id"]),
        kind=IncentiveKind(item["kind"]),
        tranche=int(item["tranche"]),
        amount=int(item["amount"]),
        failure_code=FailureCode(item["failed_with"]),
        failed_at=datetime.fromisoformat(str(item["failed_at"])),
        attempt=int(item["attempt"]),
        provider=Provider(item["provider"]) if item.get("provider") else None,
    )


def _account(item: dict[str, Any]) -> PayoutAccount:
    return PayoutAccount(
        type=AccountType(item["type"]),
        provider=Provider(item["provider"]),
        account_cipher=str(item["account_cipher"]),
        account_masked=str(item["account_masked"]),
        status=AccountStatus(item["status"]),
        version=int(item["version"]),
        linked_at=datetime.fromisoformat(str(item["linked_at"])),
        reason=str(item["reason"]) if item.get("reason") else None,
        validated_at=moment(item.get("validated_at")),
    )


def _payout_item(p: PayoutRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        **keys.payout(p.applicant_id, p.payout_id),
        "payout_id": p.payout_id,
        "applicant_id": p.applicant_id,
        "kind": str(p.kind),
        "tranche": p.tranche,
        "amount": p.amount,
        "status": str(p.status),
        "created_at": ts(p.created_at),
        "due_at": ts(p.due_at),
        "attempt": p.attempt,
        "provider": str(p.provider) if p.provider else None,
        "failure_code": str(p.failure_code) if p.failure_code else None,
        "partner_reference": p.partner_reference,
        "processing_at": ts(p.processing_at) if p.processing_at else None,
        "paid_at": ts(p.paid_at) if p.paid_at else None,
        "failed_at": ts(p.failed_at) if p.failed_at else None,
        "task_token": p.task_token,
        "account_cipher": p.account_cipher,
        "queue": queue_of(p.payout_id) if p.queued else None,
        # Every write puts the whole item, so a payout leaves the index as it leaves FAILED.
        "failed_with": str(p.failure_code) if p.status == PayoutStatus.FAILED and p.failure_code else None,
    }
    return item


def _payout(item: dict[str, Any]) -> PayoutRecord:
    return PayoutRecord(
        payout_id=str(item["payout_id"]),
        applicant_id=str(item["applicant_id"]),
        kind=IncentiveKind(item["kind"]),
        tranche=int(item["tranche"]),
        amount=int(item["amount"]),
        status=PayoutStatus(item["status"]),
        created_at=datetime.fromisoformat(str(item["created_at"])),
        due_at=datetime.fromisoformat(str(item["due_at"])),
        attempt=int(item["attempt"]),
        provider=Provider(item["provider"]) if item.get("provider") else None,
        failure_code=FailureCode(item["failure_code"]) if item.get("failure_code") else None,
        partner_reference=str(item["partner_reference"]) if item.get("partner_reference") else None,
        processing_at=moment(item.get("processing_at")),
        paid_at=moment(item.get("paid_at")),
        failed_at=moment(item.get("failed_at")),
        task_token=str(item["task_token"]) if item.get("task_token") else None,
        account_cipher=str(item["account_cipher"]) if item.get("account_cipher") else None,
        queued=bool(item.get("queue")),
    )
