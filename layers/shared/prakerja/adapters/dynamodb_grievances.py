"""Complaint tickets in the cases table (docs/grievances.md).

Items (keys in adapters/keys.py):
- the ticket ``TICKET#<id>`` / ``TICKET``: its state, its first message (encrypted), and the
  queue index's attributes ``queue`` (``<status>#<category>``) and ``queue_at`` (when it entered
  the queue, then its id): the ComplaintQueue index (infra: constructs/data.py) lists a
  partition oldest first and projects only QUEUE_FIELDS, never a message;
- each update ``TICKET#<id>`` / ``UPDATE#<seq>``: who, when, the status after it, its message
  (encrypted): the whole ticket is one query of its partition;
- its row in the account's list ``ACCOUNT#<sub>#TICKETS`` / ``<position>``: the summary, kept
  equal to the ticket in each transaction that changes it.

Messages are encrypted with the personal-data key, the encryption context binding each to its
ticket (a ciphertext copied onto another ticket does not decrypt). An ops answer writes, in its
transaction, the audit log entry and the applicant's notification (outbox: ids only).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from prakerja.adapters import keys
from prakerja.adapters.dynamodb import (
    Transaction,
    from_item,
    moment,
    outbox_message,
    query_page,
    set_or_remove,
    to_item,
    ts,
    value,
)
from prakerja.audit.models import AuditEntry
from prakerja.grievances.models import (
    Author,
    ComplaintCategory,
    QueueRow,
    Ticket,
    TicketStatus,
    TicketSummary,
    TicketUpdate,
)
from prakerja.grievances.ports import TicketChanged
from prakerja.registration.ports import PersonalDataCipher

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from prakerja.adapters.dynamodb_audit import DynamoDBAuditLog

QUEUE_INDEX = "ComplaintQueue"
# What the queue index carries besides its keys (infra: constructs/data.py; tests/infra/test_data.py).
QUEUE_FIELDS = ("ticket_id", "category", "status", "created_at", "due_by", "updated_at")
# The outbox's kind of an ops answer (prakerja.notifications renders it without the message).
ANSWER_NOTICE = "COMPLAINT_ANSWERED"


class TicketVault:
    """A ticket's messages encrypted under the personal-data key, bound to the ticket."""

    def __init__(self, cipher: PersonalDataCipher) -> None:
        self._cipher = cipher

    def seal(self, ticket_id: str, text: str) -> str:
        return self._cipher.encrypt(text.encode(), {"ticket_id": ticket_id})

    def open(self, ticket_id: str, sealed: str) -> str:
        return self._cipher.decrypt(sealed, {"ticket_id": ticket_id}).decode()


class DynamoDBTickets:
    def __init__(
        self,
        db: DynamoDBClient,
        table: str,
        vault: TicketVault,
        *,
        audit: DynamoDBAuditLog | None = None,
        outbox_table: str | None = None,
    ) -> None:
        self._db = db
        self._table = table
        self._vault = vault
        self._audit = audit
        self._outbox = outbox_table

    def create(self, ticket: Ticket) -> None:
        sealed = self._vault.seal(ticket.ticket_id, ticket.message)
        transaction = Transaction()
        transaction.add("ticket", self._put({**self._ticket_item(ticket), "message": sealed}))
        transaction.add("listing", self._put(self._listing_item(ticket)))
        cancelled = transaction.write(self._db)
        if cancelled is not None:
            raise RuntimeError("a new ticket id was taken")  # uuid4: never in practice

    def get(self, ticket_id: str) -> Ticket | None:
        pages = self._db.get_paginator("query").paginate(  # a page is up to 1 MB: hundreds of updates
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": value(keys.ticket_partition(ticket_id))},
            ConsistentRead=True,
        )
        items = [from_item(item) for page in pages for item in page.get("Items", [])]
        main = next((item for item in items if item["sk"] == keys.ticket(ticket_id)["sk"]), None)
        if main is None:
            return None
        updates = sorted(
            (item for item in items if str(item["sk"]).startswith(keys.TICKET_UPDATE)), key=lambda i: int(i["seq"])
        )
        return Ticket(
            ticket_id=ticket_id,
            account_id=str(main["account_id"]),
            applicant_id=str(main["applicant_id"]) if main.get("applicant_id") else None,
            category=ComplaintCategory(main["category"]),
            status=TicketStatus(main["status"]),
            message=self._vault.open(ticket_id, str(main["message"])),
            created_at=_time(main["created_at"]),
            queued_at=_time(main["queued_at"]),
            due_by=_time(main["due_by"]),
            updated_at=_time(main["updated_at"]),
            resolved_at=moment(main.get("resolved_at")),
            updates=tuple(
                TicketUpdate(
                    seq=int(item["seq"]),
                    at=_time(item["at"]),
                    by=Author(item["by"]),
                    status=TicketStatus(item["status"]),
                    message=self._vault.open(ticket_id, str(item["message"])),
                )
                for item in updates
            ),
        )

    def mine(self, account_id: str, limit: int, next_token: str | None) -> tuple[list[TicketSummary], str | None]:
        partition = keys.account_tickets_partition(account_id)
        query = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": value(partition)},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        items, token = query_page(self._db, query, partition, next_token)
        return [_summary(item) for item in items], token

    def append(
        self, before: Ticket, after: Ticket, update: TicketUpdate, *, audit: AuditEntry | None, notify: bool
    ) -> None:
        ticket_id = before.ticket_id
        state = {k: v for k, v in self._ticket_item(after).items() if k not in ("pk", "sk", "message")}
        if state["applicant_id"] is None:
            del state["applicant_id"]  # a ticket's applicant never changes: nothing to remove
        expression, names, values = set_or_remove(state)
        values[":expected"] = value(before.version)
        transaction = Transaction()
        transaction.add(
            "ticket",
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_item(keys.ticket(ticket_id)),
                    "UpdateExpression": expression,
                    "ConditionExpression": "#version = :expected",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            },
        )
        transaction.add(
            "update",
            self._put(
                {
                    **keys.ticket_update(ticket_id, update.seq),
                    "seq": update.seq,
                    "at": ts(update.at),
                    "by": str(update.by),
                    "status": str(update.status),
                    "message": self._vault.seal(ticket_id, update.message),
                }
            ),
        )
        # The list's row, rewritten whole (its key never changes: the filing's position).
        transaction.add("listing", {"Put": {"TableName": self._table, "Item": to_item(self._listing_item(after))}})
        if audit is not None:
            if self._audit is None:
                raise RuntimeError("this store was made without the audit log")
            transaction.add("audit", self._audit.put(audit))
        if notify and after.applicant_id and self._outbox:
            # One per ticket: a later answer replaces an unsent notice, or texts again once sent.
            notice = outbox_message(ANSWER_NOTICE, after.applicant_id, ticket_id, str(after.status), update.at)
            transaction.add("notice", {"Put": {"TableName": self._outbox, "Item": to_item(notice)}})
        cancelled = transaction.write(self._db)
        if cancelled is not None:
            if cancelled.failed("ticket") or cancelled.failed("update"):
                raise TicketChanged
            raise RuntimeError("the ticket's audit entry was written already")

    def queue_partition(
        self, status: TicketStatus, category: ComplaintCategory, after: str | None, before: datetime | None, limit: int
    ) -> tuple[list[QueueRow], bool]:
        if after is not None and before is not None and after >= keys.queue_time(before):
            # Nothing of this partition lies between (another category's cursor is past this one's
            # overdue cut-off); DynamoDB refuses a BETWEEN whose bounds are reversed.
            return [], False
        values: dict[str, Any] = {":p": value(keys.complaint_queue_partition(status, category))}
        condition = "#q = :p"
        # One condition on the sort key: BETWEEN is inclusive, so the cursor's own row comes back
        # (dropped below, one more asked for); no position equals a bare time (they end in an id).
        if after is not None and before is not None:
            condition += " AND #at BETWEEN :after AND :before"
        elif after is not None:
            condition += " AND #at > :after"
        elif before is not None:
            condition += " AND #at < :before"
        if after is not None:
            values[":after"] = value(after)
        if before is not None:
            values[":before"] = value(keys.queue_time(before))
        names = {"#q": "queue"} | ({"#at": "queue_at"} if after is not None or before is not None else {})
        asked = limit + 1 if after is not None and before is not None else limit
        response = self._db.query(
            TableName=self._table,
            IndexName=QUEUE_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            Limit=asked,
        )
        items = [from_item(item) for item in response.get("Items", [])]
        rows = [QueueRow(_summary(item), str(item["queue_at"])) for item in items if item["queue_at"] != after]
        return rows[:limit], "LastEvaluatedKey" in response

    def count_queued_before(self, status: TicketStatus, category: ComplaintCategory, before: datetime) -> int:
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=QUEUE_INDEX,
            Select="COUNT",
            KeyConditionExpression="#q = :p AND #at < :before",
            ExpressionAttributeNames={"#q": "queue", "#at": "queue_at"},
            ExpressionAttributeValues={
                ":p": value(keys.complaint_queue_partition(status, category)),
                ":before": value(keys.queue_time(before)),
            },
        )
        return sum(int(page.get("Count", 0)) for page in pages)

    def _ticket_item(self, ticket: Ticket) -> dict[str, Any]:
        return {
            **keys.ticket(ticket.ticket_id),
            "ticket_id": ticket.ticket_id,
            "account_id": ticket.account_id,
            "applicant_id": ticket.applicant_id,
            "category": str(ticket.category),
            "status": str(ticket.status),
            "created_at": ts(ticket.created_at),
            "queued_at": ts(ticket.queued_at),
            "due_by": ts(ticket.due_by),
            "updated_at": ts(ticket.updated_at),
            "resolved_at": ts(ticket.resolved_at) if ticket.resolved_at else None,
            "version": ticket.version,
            "queue": keys.complaint_queue_partition(ticket.status, ticket.category),
            "queue_at": keys.complaint_queue_position(ticket.queued_at, ticket.ticket_id),
        }

    def _listing_item(self, ticket: Ticket) -> dict[str, Any]:
        return {
            **keys.account_ticket(
                ticket.account_id, keys.complaint_queue_position(ticket.created_at, ticket.ticket_id)
            ),
            "ticket_id": ticket.ticket_id,
            "category": str(ticket.category),
            "status": str(ticket.status),
            "created_at": ts(ticket.created_at),
            "due_by": ts(ticket.due_by),
            "updated_at": ts(ticket.updated_at),
        }

    def _put(self, item: dict[str, Any]) -> TransactWriteItemTypeDef:
        return {
            "Put": {"TableName": self._table, "Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}
        }


def _time(text: Any) -> datetime:
    return datetime.fromisoformat(str(text))


def _summary(item: dict[str, Any]) -> TicketSummary:
    return TicketSummary(
        ticket_id=str(item["ticket_id"]),
        category=ComplaintCategory(item["category"]),
        status=TicketStatus(item["status"]),
        created_at=_time(item["created_at"]),
        due_by=_time(item["due_by"]),
        updated_at=_time(item["updated_at"]),
    )
