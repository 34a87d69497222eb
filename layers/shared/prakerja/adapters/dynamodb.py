"""Small helpers shared by the DynamoDB repositories."""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from prakerja.adapters import keys
from prakerja.errors import ValidationFailed

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

# A condition that failed: the code of a cancelled transaction's item...
CONDITION_FAILED = "ConditionalCheckFailed"
# ...and the error of a single write.
CONDITION_FAILED_ERROR = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"
# Another transaction on the same item, or throttling: worth another try after a pause.
_RETRIED = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
_ATTEMPTS = 8
OUTBOX_RETENTION_DAYS = 30

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def value(v: Any) -> dict[str, Any]:
    serialized: dict[str, Any] = _serializer.serialize(v)  # type: ignore[assignment]
    return serialized


def ts(moment: datetime) -> str:
    return moment.isoformat()


def moment(text: Any) -> datetime | None:
    """An optional stored time back (ISO 8601, as ``ts`` wrote it)."""
    return datetime.fromisoformat(str(text)) if text else None


def cancellation_codes(error: Exception) -> list[str]:
    """Per-item codes of a cancelled transaction ('None', 'ConditionalCheckFailed', ...)."""
    response = getattr(error, "response", {}) or {}
    return [str(reason.get("Code", "None")) for reason in response.get("CancellationReasons", [])]


@dataclass(frozen=True)
class Cancellation:
    """Why DynamoDB cancelled a ``Transaction``: the codes of each part's items, by part."""

    codes: dict[str, tuple[str, ...]]

    def failed(self, part: str) -> bool:
        """Whether the condition of an item of ``part`` failed (a part the transaction has)."""
        return CONDITION_FAILED in self.codes[part]


class Transaction:
    """The items of one TransactWriteItems call, added in named parts. DynamoDB tells why it
    cancelled one item by item in their order; ``cancellation`` gives it back by part, so no
    caller counts positions (which move as soon as a part gains an item)."""

    def __init__(self) -> None:
        self._parts: dict[str, list[TransactWriteItemTypeDef]] = {}

    def add(self, part: str, *items: TransactWriteItemTypeDef) -> Transaction:
        """``items`` (none, one or many) as ``part``, after the parts added before."""
        if part in self._parts:
            raise ValueError(f"{part} is in the transaction already")
        self._parts[part] = list(items)
        return self

    @property
    def items(self) -> list[TransactWriteItemTypeDef]:
        return [item for items in self._parts.values() for item in items]

    def cancellation(self, codes: Sequence[str]) -> Cancellation:
        """Per-item ``codes`` (``cancellation_codes``), by part; none for a part if DynamoDB
        gave no reasons."""
        by_part: dict[str, tuple[str, ...]] = {}
        start = 0
        for part, items in self._parts.items():
            by_part[part] = tuple(codes[start : start + len(items)])
            start += len(items)
        return Cancellation(by_part)

    def write(self, db: DynamoDBClient) -> Cancellation | None:
        """``transact``: None once written, else why it was cancelled (a condition failed,
        nothing was written)."""
        codes = transact(db, self.items)
        return self.cancellation(codes) if codes else None


def move_status(db: DynamoDBClient, table: str, key: dict[str, Any], current: str, new: str, **fields: Any) -> bool:
    """An item from ``current`` to ``new`` status with ``fields`` set, atomically; False
    (nothing written) if it was not in ``current``."""
    names = {"#status": "status", **{f"#{name}": name for name in fields}}
    values = {":new": value(new), ":current": value(current)}
    values |= {f":{name}": value(field) for name, field in fields.items()}
    return conditional(
        lambda: db.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET " + ", ".join(["#status = :new", *(f"#{n} = :{n}" for n in fields)]),
            ConditionExpression="#status = :current",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    )


def conditional(write: Callable[[], object]) -> bool:
    """Runs a conditional put or update: True if written, False if its condition failed."""
    try:
        write()
    except ClientError as error:
        if error.response["Error"]["Code"] == CONDITION_FAILED_ERROR:
            return False
        raise
    return True


def count_up_to(db: DynamoDBClient, table: str, key: dict[str, str], limit: int, expires_at: int) -> bool:
    """Adds one to the counter item ``key`` unless it reached ``limit``: True if added. The
    item expires (TTL) with the window it counts."""
    return conditional(
        lambda: db.update_item(
            TableName=table,
            Key=to_item(key),
            UpdateExpression="ADD hits :one SET expires_at = :expires",
            ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
            ExpressionAttributeValues={":one": value(1), ":limit": value(limit), ":expires": value(expires_at)},
        )
    )


def query_page(
    db: DynamoDBClient, query: dict[str, Any], partition: str, next_token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a query over ``partition`` (its items as dicts) and the token of the next
    page; ``next_token`` must be one issued for this partition (else 422)."""
    if next_token:
        query = {**query, "ExclusiveStartKey": decode_token(next_token, partition)}
    response = db.query(**query)
    last = response.get("LastEvaluatedKey")
    return [from_item(item) for item in response.get("Items", [])], encode_token(last) if last else None


def outbox_message(
    kind: str, applicant_id: str, wave_id: str, status: str, at: datetime, **extra: Any
) -> dict[str, Any]:
    """A notification for the outbox table (written in the transaction of the change it
    announces). One per applicant, kind and wave: a rewrite replaces, never duplicates; sent
    messages expire after OUTBOX_RETENTION_DAYS (TTL)."""
    return {
        **keys.outbox(applicant_id, kind, wave_id),
        "kind": kind,
        "applicant_id": applicant_id,
        "wave_id": wave_id,
        "status": status,
        "created_at": ts(at),
        "expires_at": int(at.timestamp()) + OUTBOX_RETENTION_DAYS * 86400,
        **extra,
    }


def encode_token(key: dict[str, Any]) -> str:
    """An opaque ``next_token`` from a query's position (its LastEvaluatedKey: the table's keys,
    and an index's when the query read one)."""
    return base64.urlsafe_b64encode(json.dumps(from_item(key), sort_keys=True).encode()).decode()


def decode_token(
    token: str, partition: str, *, partition_key: str = "pk", names: Collection[str] = ("pk", "sk")
) -> dict[str, Any]:
    """The position back, refused (422) unless it is one issued for this list: exactly the key
    ``names`` of the table (or index) queried, each a string, in the partition queried."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        if (
            not isinstance(decoded, dict)
            or set(decoded) != set(names)
            or not all(isinstance(v, str) for v in decoded.values())
            or decoded[partition_key] != partition
        ):
            raise ValueError("not a token of this list")
        return to_item(decoded)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed("NEXT_TOKEN_INVALID", "next_token is not one this API issued.") from error


def set_or_remove(fields: Mapping[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """An UpdateExpression setting each field that has a value and removing each that is None,
    with its attribute names (``#<field>``) and values (``:<field>``)."""
    kept = {name: field for name, field in fields.items() if field is not None}
    removed = [name for name, field in fields.items() if field is None]
    expression = "SET " + ", ".join(f"#{name} = :{name}" for name in kept)
    if removed:
        expression += " REMOVE " + ", ".join(f"#{name}" for name in removed)
    return expression, {f"#{name}": name for name in fields}, {f":{name}": value(field) for name, field in kept.items()}


def transact(db: DynamoDBClient, items: Sequence[TransactWriteItemTypeDef]) -> list[str]:
    """Writes ``items`` in one transaction, retrying conflicts and throttling with jittered
    backoff. Returns [] once written, or the per-item cancellation codes when a condition
    failed (nothing was written; ``Transaction.write`` gives them by part); raises anything else."""
    for attempt in range(_ATTEMPTS):
        try:
            db.transact_write_items(TransactItems=list(items))
        except ClientError as error:
            codes = cancellation_codes(error)
            if CONDITION_FAILED in codes:
                return codes
            retried = set(codes) & _RETRIED or error.response["Error"]["Code"] in _RETRIED
            if not retried or attempt == _ATTEMPTS - 1:
                raise
            time.sleep(min(2.0, 0.05 * 2**attempt) * random.random())  # noqa: S311 - jitter, not a secret
        else:
            return []
    raise AssertionError("unreachable")
