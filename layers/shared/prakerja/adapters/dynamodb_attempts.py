"""Attempt counters in DynamoDB (the attempts table): one item per subject and window,
``ATTEMPT#<kind>#<subject>#<window start> / COUNT``, expiring with its window (TTL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prakerja.adapters import keys
from prakerja.adapters.dynamodb import count_up_to, from_item, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoDBAttemptCounter:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def add(self, key: str, limit: int, expires_at: int) -> bool:
        return count_up_to(self._db, self._table, keys.attempt_counter(key), limit, expires_at)

    def reached(self, key: str, limit: int) -> bool:
        item = self._db.get_item(
            TableName=self._table, Key=to_item(keys.attempt_counter(key)), ConsistentRead=True
        ).get("Item")
        return item is not None and int(from_item(item).get("hits", 0)) >= limit
