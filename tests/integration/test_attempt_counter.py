"""The DynamoDB attempt counter on moto: counts up to its limit, concurrently too, and expires."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from localcloud.provision import Resources
from prakerja.adapters.dynamodb_attempts import DynamoDBAttemptCounter
from tests.integration.conftest import REGION, Serialized, physical


def test_counts_up_to_the_limit_then_refuses(aws: Resources, clients: dict[str, Any]) -> None:
    counter = DynamoDBAttemptCounter(clients["dynamodb"], physical(aws, "DataAttemptsTable"))
    assert [counter.add("registration#acct#0", 3, 3600) for _ in range(5)] == [True, True, True, False, False]
    assert counter.reached("registration#acct#0", 3)
    assert not counter.reached("registration#other#0", 3)
    assert counter.add("registration#other#0", 3, 3600)


def test_concurrent_attempts_never_pass_the_limit(aws: Resources) -> None:
    # Each request atomic, as DynamoDB's are (moto's in-process backend is not thread-safe).
    client: Any = Serialized(boto3.client("dynamodb", region_name=REGION))
    counter = DynamoDBAttemptCounter(client, physical(aws, "DataAttemptsTable"))

    def attempt(_: int) -> bool:
        return counter.add("voucher-miss#P#0", 10, 1)

    with ThreadPoolExecutor(8) as pool:
        counted = list(pool.map(attempt, range(40)))
    assert counted.count(True) == 10


def test_a_counter_expires_with_its_window(aws: Resources, clients: dict[str, Any]) -> None:
    table = physical(aws, "DataAttemptsTable")
    DynamoDBAttemptCounter(clients["dynamodb"], table).add("assessment#acct#3600", 20, 7200)
    [item] = clients["dynamodb"].scan(TableName=table)["Items"]
    assert item["expires_at"] == {"N": "7200"} and item["hits"] == {"N": "1"}
