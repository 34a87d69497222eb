"""The local runtime's faster moto answers as DynamoDB does: transactions all or nothing, queries
of one partition in key order, page by page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from localcloud import moto_speedups

REGION = "ap-southeast-3"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    moto_speedups.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName="ledger",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "owner", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "ByOwner",
                    "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        yield client


def _put(pk: str, sk: str, **extra: str) -> dict[str, Any]:
    item = {"pk": {"S": pk}, "sk": {"S": sk}} | {k: {"S": v} for k, v in extra.items()}
    return {"Put": {"TableName": "ledger", "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}


def _items(client: Any) -> list[tuple[str, str]]:
    return sorted((i["pk"]["S"], i["sk"]["S"]) for i in client.scan(TableName="ledger")["Items"])


def _stream_records() -> int:
    """The table's stream so far, read off moto's backend (its stream API is partial)."""
    shard = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table("ledger").stream_shard
    assert shard is not None
    return len(shard.items)


def test_a_transaction_writes_every_item(dynamodb: Any) -> None:
    dynamodb.put_item(TableName="ledger", Item={"pk": {"S": "budget"}, "sk": {"S": "-"}, "left": {"N": "100"}})
    dynamodb.transact_write_items(
        TransactItems=[
            _put("card#1", "debit"),
            {
                "Update": {
                    "TableName": "ledger",
                    "Key": {"pk": {"S": "budget"}, "sk": {"S": "-"}},
                    "UpdateExpression": "SET #left = #left - :amount",
                    "ConditionExpression": "#left >= :amount",
                    "ExpressionAttributeNames": {"#left": "left"},
                    "ExpressionAttributeValues": {":amount": {"N": "30"}},
                }
            },
        ]
    )
    budget = dynamodb.get_item(TableName="ledger", Key={"pk": {"S": "budget"}, "sk": {"S": "-"}})["Item"]
    assert budget["left"] == {"N": "70"}
    assert _items(dynamodb) == [("budget", "-"), ("card#1", "debit")]


def test_a_cancelled_transaction_writes_nothing_and_says_which_condition_failed(dynamodb: Any) -> None:
    dynamodb.put_item(TableName="ledger", Item={"pk": {"S": "nik#9"}, "sk": {"S": "guard"}, "owner": {"S": "a"}})
    records_before = _stream_records()
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(
            TransactItems=[
                _put("applicant#2", "profile"),
                {
                    **_put("nik#9", "guard"),
                    "Put": {**_put("nik#9", "guard")["Put"], "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
                },
            ]
        )
    error = refused.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [reason["Code"] for reason in error["CancellationReasons"]] == ["None", "ConditionalCheckFailed"]
    assert error["CancellationReasons"][1]["Item"] == {"pk": {"S": "nik#9"}, "sk": {"S": "guard"}, "owner": {"S": "a"}}
    assert _items(dynamodb) == [("nik#9", "guard")]
    assert _stream_records() == records_before  # nothing was written, nothing streamed


def test_a_transaction_naming_an_item_twice_is_refused(dynamodb: Any) -> None:
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=[_put("card#1", "debit"), _put("card#1", "debit")])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert _items(dynamodb) == []


def test_a_query_reads_one_partition_in_key_order_page_by_page(dynamodb: Any) -> None:
    for pk in ("card#1", "card#2"):
        for sk in ("c", "a", "b"):
            dynamodb.put_item(TableName="ledger", Item={"pk": {"S": pk}, "sk": {"S": sk}, "owner": {"S": pk}})
    query = {
        "TableName": "ledger",
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": "card#2"}},
        "Limit": 2,
    }
    first = dynamodb.query(**query)
    second = dynamodb.query(**query, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert [i["sk"]["S"] for i in first["Items"] + second["Items"]] == ["a", "b", "c"]
    assert {i["pk"]["S"] for i in first["Items"] + second["Items"]} == {"card#2"}
    backwards = dynamodb.query(**(query | {"Limit": 5}), ScanIndexForward=False)
    assert [i["sk"]["S"] for i in backwards["Items"]] == ["c", "b", "a"]
    nobody = dynamodb.query(**(query | {"ExpressionAttributeValues": {":pk": {"S": "card#404"}}}))
    assert nobody["Items"] == []
    by_owner = dynamodb.query(
        TableName="ledger",
        IndexName="ByOwner",
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": "card#1"}},
    )
    assert len(by_owner["Items"]) == 3


def test_users_are_found_by_email_as_they_are_added() -> None:
    moto_speedups.install()
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name=REGION)
        pool = idp.create_user_pool(PoolName="applicants", UsernameAttributes=["email"])["UserPool"]["Id"]

        def sign_up(email: str) -> str:
            created = idp.admin_create_user(
                UserPoolId=pool, Username=email, UserAttributes=[{"Name": "email", "Value": email}]
            )
            return str(created["User"]["Username"])

        with pytest.raises(idp.exceptions.UserNotFoundException):
            idp.admin_get_user(UserPoolId=pool, Username="budi@example.com")
        budi = sign_up("budi@example.com")
        siti = sign_up("siti@example.com")
        assert idp.admin_get_user(UserPoolId=pool, Username="budi@example.com")["Username"] == budi
        assert idp.admin_get_user(UserPoolId=pool, Username="siti@example.com")["Username"] == siti
        assert idp.admin_get_user(UserPoolId=pool, Username=siti)["Username"] == siti  # by its own name too
        with pytest.raises(idp.exceptions.UsernameExistsException):
            sign_up("budi@example.com")
        with pytest.raises(idp.exceptions.UserNotFoundException):
            idp.admin_get_user(UserPoolId=pool, Username="agus@example.com")
