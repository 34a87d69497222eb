"""The local runtime's faster moto answers as DynamoDB does: transactions all or nothing, queries
of one partition in key order, page by page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from localcloud import moto_speedups

REGION = "ap-southeast-3"


def _ledger_table() -> Any:
    """The ledger-shaped table these tests write to (an index by owner, a stream), and its client."""
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
    return client


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with moto_speedups.patched(), mock_aws():
        yield _ledger_table()


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


EVERY_TYPE = {
    "pk": {"S": "card#1"},
    "sk": {"S": "a"},
    "amount": {"N": "150000.5"},
    "signature": {"B": b"\x00\xffsig"},
    "digests": {"BS": [b"\x01", b"\x02"]},
    "tags": {"SS": ["new", "paid"]},
    "tranches": {"NS": ["1", "2"]},
    "lines": {"L": [{"S": "debit"}, {"NULL": True}, {"BOOL": False}]},
    "partner": {"M": {"id": {"S": "BNI"}, "empty": {"M": {}}, "none": {"L": []}}},
    "note": {"S": ""},
}


def test_items_of_every_attribute_type_read_back_as_they_were_written(dynamodb: Any) -> None:
    """Item results are written out without moto's serializer: every type must survive it."""
    key = {"pk": EVERY_TYPE["pk"], "sk": EVERY_TYPE["sk"]}
    assert "Attributes" not in dynamodb.put_item(TableName="ledger", Item=EVERY_TYPE, ReturnValues="ALL_OLD")
    assert dynamodb.put_item(TableName="ledger", Item=EVERY_TYPE, ReturnValues="ALL_OLD")["Attributes"] == EVERY_TYPE
    assert dynamodb.get_item(TableName="ledger", Key=key)["Item"] == EVERY_TYPE
    assert "Item" not in dynamodb.get_item(TableName="ledger", Key=key | {"sk": {"S": "missing"}})
    projected = dynamodb.get_item(TableName="ledger", Key=key, ProjectionExpression="signature, partner.id")
    assert projected["Item"] == {"signature": EVERY_TYPE["signature"], "partner": {"M": {"id": {"S": "BNI"}}}}

    updated = dynamodb.update_item(
        TableName="ledger",
        Key=key,
        UpdateExpression="SET amount = amount + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="UPDATED_NEW",
    )
    assert updated["Attributes"] == {"amount": {"N": "150001.5"}}
    dynamodb.put_item(TableName="ledger", Item=key | {"sk": {"S": "b"}})
    query = dynamodb.query(
        TableName="ledger",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": EVERY_TYPE["pk"]},
        Limit=1,
    )
    assert query["Items"] == [EVERY_TYPE | {"amount": {"N": "150001.5"}}]
    assert (query["Count"], query["ScannedCount"], query["LastEvaluatedKey"]) == (1, 1, key)
    batch = dynamodb.batch_get_item(RequestItems={"ledger": {"Keys": [key, key | {"sk": {"S": "missing"}}]}})
    assert batch["Responses"]["ledger"] == query["Items"]
    assert batch["UnprocessedKeys"] == {}
    both = dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": "ledger", "Key": key}}])
    assert both["Responses"] == [{"Item": query["Items"][0]}]
    assert dynamodb.delete_item(TableName="ledger", Key=key, ReturnValues="ALL_OLD")["Attributes"] == query["Items"][0]
    assert dynamodb.scan(TableName="ledger")["Items"] == [key | {"sk": {"S": "b"}}]


def test_users_are_found_by_email_as_they_are_added() -> None:
    with moto_speedups.patched(), mock_aws():
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


# --- the changes hold inside patched() only, on the moto they were checked against


def test_patched_changes_moto_only_while_it_lasts() -> None:
    from moto.cognitoidp.models import CognitoIdpUserPool
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.stepfunctions.parser.asl.utils import boto_client

    before = [
        vars(DynamoDBBackend)["transact_write_items"],
        vars(Table)["query"],
        vars(CognitoIdpUserPool)["_get_user"],
    ]
    client_for = boto_client.boto_client_for
    with moto_speedups.patched():
        assert vars(DynamoDBBackend)["transact_write_items"] is not before[0]
        with moto_speedups.patched():  # a second runtime in the same process shares the changes
            assert vars(Table)["query"] is not before[1]
        assert vars(Table)["query"] is not before[1]  # still the outer runtime's
        assert boto_client.boto_client_for is not client_for
    after = [vars(DynamoDBBackend)["transact_write_items"], vars(Table)["query"], vars(CognitoIdpUserPool)["_get_user"]]
    assert after == before
    assert boto_client.boto_client_for is client_for


def test_another_moto_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import moto

    monkeypatch.setattr(moto, "__version__", "9.9.9")
    with pytest.raises(RuntimeError, match="not the 5"), moto_speedups.patched():
        pass


def test_the_checked_version_is_the_pinned_one() -> None:
    pinned = (Path(__file__).resolve().parents[2] / "requirements" / "dev.in").read_text()
    assert f"]=={moto_speedups.CHECKED_MOTO_VERSION}" in pinned


def _ledger_operations() -> list[Any]:
    """Transactions (one cancelled), queries of a partition page by page, reads and a scan, as
    the program makes them; every answer and every error, in order."""
    client = _ledger_table()
    answers: list[Any] = []

    def record(call: Any, **kwargs: Any) -> None:
        try:
            answer = call(**kwargs)
            answer.pop("ResponseMetadata", None)
            answers.append(answer)
        except ClientError as error:
            answers.append((error.response["Error"]["Code"], error.response.get("CancellationReasons")))

    for i in range(5):
        record(
            client.transact_write_items,
            TransactItems=[
                {
                    "Put": {
                        "TableName": "ledger",
                        "Item": {"pk": {"S": "A"}, "sk": {"S": f"{i:02d}"}, "n": {"N": str(i)}},
                    }
                },
                {"Put": {"TableName": "ledger", "Item": {"pk": {"S": "B"}, "sk": {"S": f"{i:02d}"}}}},
            ],
        )
    record(
        client.transact_write_items,
        TransactItems=[
            {"Put": {"TableName": "ledger", "Item": {"pk": {"S": "C"}, "sk": {"S": "x"}}}},
            {
                "Put": {
                    "TableName": "ledger",
                    "Item": {"pk": {"S": "A"}, "sk": {"S": "00"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ],
    )
    start: dict[str, Any] | None = None
    while True:
        page: dict[str, Any] = {
            "TableName": "ledger",
            "KeyConditionExpression": "pk = :a",
            "ExpressionAttributeValues": {":a": {"S": "A"}},
            "Limit": 2,
        }
        if start:
            page["ExclusiveStartKey"] = start
        answer = client.query(**page)
        answers.append({k: v for k, v in answer.items() if k != "ResponseMetadata"})
        start = answer.get("LastEvaluatedKey")
        if not start:
            break
    record(client.get_item, TableName="ledger", Key={"pk": {"S": "C"}, "sk": {"S": "x"}})
    record(client.scan, TableName="ledger")
    return answers


def test_the_changed_dynamodb_answers_as_moto_does() -> None:
    with mock_aws():
        theirs = _ledger_operations()
    with moto_speedups.patched(), mock_aws():
        ours = _ledger_operations()
    assert ours == theirs
    assert any(isinstance(answer, tuple) and answer[0] == "TransactionCanceledException" for answer in theirs)
