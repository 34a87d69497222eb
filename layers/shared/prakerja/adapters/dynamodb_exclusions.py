"""Exclusion lists in DynamoDB: one item per (NIK hash, list), so screening reads every list
naming an applicant with a single Query."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prakerja.adapters.dynamodb import to_item, ts, value
from prakerja.registration.models import ExclusionSource

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_BATCH = 25  # BatchWriteItem's limit


class DynamoDBExclusionRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def add(self, source: ExclusionSource | str, nik_hashes: Iterable[str], at: datetime) -> int:
        unique = sorted(set(nik_hashes))
        for start in range(0, len(unique), _BATCH):
            requests: list[Any] = [
                {"PutRequest": {"Item": to_item({"nik_hash": h, "source": str(source), "added_at": ts(at)})}}
                for h in unique[start : start + _BATCH]
            ]
            self._write_all(requests)
        return len(unique)

    def _write_all(self, requests: list[Any]) -> None:
        delay = 0.05
        while requests:
            response = self._db.batch_write_item(RequestItems={self._table: requests})
            requests = list(response.get("UnprocessedItems", {}).get(self._table, []))
            if requests:  # throttled: back off and send only what was not written
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    def sources_for(self, nik_hash: str) -> frozenset[str]:
        response = self._db.query(
            TableName=self._table,
            KeyConditionExpression="nik_hash = :h",
            ExpressionAttributeValues={":h": value(nik_hash)},
            ProjectionExpression="#s",
            ExpressionAttributeNames={"#s": "source"},
        )
        return frozenset(str(item["source"]["S"]) for item in response.get("Items", []))
