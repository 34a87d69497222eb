"""The audit log in DynamoDB: one partition sorted by time, and an index per filter (actor,
action) so that ``GET /v1/ops/audit-log`` never scans. Entries are only put, never updated or
deleted (IAM: infra constructs/grants.py ``allow_audit_append``); they expire after
AUDIT_RETENTION_DAYS (TTL).

An entry of a change made in a DynamoDB transaction is written in that transaction
(``put``); other changes record theirs once they are made (``record``)."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from prakerja.adapters import keys
from prakerja.adapters.dynamodb import conditional, decode_token, encode_token, from_item, to_item, ts, value
from prakerja.audit.models import AUDIT_RETENTION_DAYS, AuditEntry, AuditQuery

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

# The indexes of the audit log table (infra: constructs/data.py), by the filter they serve.
BY_ACTOR = "AuditByActor"
BY_ACTION = "AuditByAction"
_FIELDS = ("at", "actor", "action", "target", "reason", "request_id", "seq")


class DynamoDBAuditLog:
    def __init__(self, db: DynamoDBClient, table: str) -> None:
        self._db = db
        self._table = table

    def item(self, entry: AuditEntry) -> dict[str, Any]:
        at = ts(entry.at)
        return {
            **keys.audit_entry(at, entry.request_id, entry.seq),
            **entry.model_dump(exclude={"at"}),
            "at": at,
            "expires_at": int(entry.at.timestamp()) + AUDIT_RETENTION_DAYS * 86400,
        }

    def put(self, entry: AuditEntry) -> TransactWriteItemTypeDef:
        """The entry as an item of another adapter's transaction (a new key: never overwrites)."""
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_item(self.item(entry)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def record(self, entry: AuditEntry) -> None:
        conditional(
            lambda: self._db.put_item(
                TableName=self._table,
                Item=to_item(self.item(entry)),
                ConditionExpression="attribute_not_exists(pk)",
            )
        )

    def entries(self, query: AuditQuery, limit: int, next_token: str | None) -> tuple[list[AuditEntry], str | None]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        request: dict[str, Any] = {"TableName": self._table, "Limit": limit, "ScanIndexForward": False}
        if query.actor is not None:
            partition = ("actor", query.actor)
            request["IndexName"] = BY_ACTOR
        elif query.action is not None:
            partition = ("action", query.action)
            request["IndexName"] = BY_ACTION
        else:
            partition = ("pk", keys.AUDIT)
        names["#p"] = partition[0]
        values[":p"] = value(partition[1])
        condition = "#p = :p"
        if query.since is not None:
            condition += " AND #sk >= :since"
            names["#sk"] = "sk"
            values[":since"] = value(ts(query.since.astimezone(UTC)))
        if query.actor is not None and query.action is not None:
            request["FilterExpression"] = "#action = :action"
            names["#action"] = "action"
            values[":action"] = value(query.action)
        request |= {
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if next_token:
            index_key = () if partition[0] == "pk" else (partition[0],)
            request["ExclusiveStartKey"] = decode_token(
                next_token, partition[1], partition_key=partition[0], names=("pk", "sk", *index_key)
            )
        response = self._db.query(**request)
        items = [from_item(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        entries = [AuditEntry.model_validate({k: v for k, v in item.items() if k in _FIELDS}) for item in items]
        return entries, encode_token(last) if last else None
