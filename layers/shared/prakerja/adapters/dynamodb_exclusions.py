"""Exclusion lists in DynamoDB: one item per (NIK hash, list), so screening reads every list
naming an applicant with a single Query."""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prakerja.adapters.dynamodb import to_item, ts, value
from prakerja.registration.models import ExclusionSource

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_BATCH = 25  # BatchWriteItem's limit
# Parallel Queries when a wave's participants are re-screened (~94 k a shard for 6 M): one
# Query each, since a hash's lists are only known by querying its partition.
LOOKUP_THREADS = 16


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

    def remove(self, source: ExclusionSource | str, nik_hashes: Iterable[str]) -> int:
        unique = sorted(set(nik_hashes))
        for start in range(0, len(unique), _BATCH):
            requests: list[Any] = [
                {"DeleteRequest": {"Key": to_item({"nik_hash": h, "source": str(source)})}}
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

    def sources_for(self, *nik_hashes: str) -> frozenset[str]:
        """Every list naming the NIK under any of these digests: one Query per key."""
        found: frozenset[str] = frozenset()
        for nik_hash in dict.fromkeys(nik_hashes):
            found |= self._sources_of(nik_hash)
        return found

    def _sources_of(self, nik_hash: str) -> frozenset[str]:
        response = self._db.query(
            TableName=self._table,
            KeyConditionExpression="nik_hash = :h",
            ExpressionAttributeValues={":h": value(nik_hash)},
            ProjectionExpression="#s",
            ExpressionAttributeNames={"#s": "source"},
        )
        return frozenset(str(item["source"]["S"]) for item in response.get("Items", []))

    def sources_for_many(self, nik_hashes: Collection[str]) -> dict[str, frozenset[str]]:
        """Every list naming each hash; hashes on no list are left out."""
        ordered = sorted(nik_hashes)
        with ThreadPoolExecutor(LOOKUP_THREADS) as pool:
            found = pool.map(self._sources_of, ordered)
            return {h: sources for h, sources in zip(ordered, found, strict=True) if sources}
