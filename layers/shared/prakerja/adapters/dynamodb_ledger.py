"""The ledger in DynamoDB (the ledger table). Append-only: items are put once, never changed,
except the running totals, which only ever grow by ADD.

Items:
- ``POSTING#<posting id> / POSTING``: the journal: a posting with all its lines. Put on the
  condition that the id is new, so an event is posted once however often it is retried.
- ``ENTRY#<account> / <posted at>#<posting id>``: a line on a per-person account (a card, an
  applicant's incentives) with the balance after it: a card's history and balance are one query.
- ``SETTLED#<payment partner>#<date>#<shard> / <transfer id>``: each confirmed payout by the
  partner and the day it settled, the ledger's side of a partner's settlement report (the
  reconciliation reads one partner-day in SETTLEMENT_SHARDS queries; one partition per day
  would be a hot key at a payout run's rate).
- ``TOTAL#<book>#<shard> / TOTAL``: running debits and credits of a book (an account, or all
  cards together, or all incentives together). Each posting adds to one shard chosen from its
  id: at a wave's ~1,300 card issues a second, one item would be a hot key and a contention
  point for the transactions; spread over TOTAL_SHARDS items (each its own partition) it is not.

Every write a posting needs is returned as transaction items, so the caller puts them in the
same transaction as the state change the posting records (the card debit, the revocation).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from prakerja.adapters import keys
from prakerja.adapters.dynamodb import Transaction, cancellation_codes, from_item, query_page, to_item, ts, value
from prakerja.ledger.postings import PER_PERSON, Account, AccountKind, Posting, PostingKind, card_funded
from prakerja.ledger.report import BookTotal
from prakerja.selection.cards import CardRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

TOTAL_SHARDS = 128
SETTLEMENT_SHARDS = 16
_BATCH_GET = 100
_READ_THREADS = 8


def total_shard(posting_id: str, shards: int = TOTAL_SHARDS) -> int:
    return int.from_bytes(hashlib.sha256(posting_id.encode()).digest()[:4], "big") % shards


def entry_partition(account: Account) -> str:
    return keys.entry_partition(account.id)


class DynamoDBLedger:
    def __init__(self, client: DynamoDBClient, table_name: str, shards: int = TOTAL_SHARDS) -> None:
        self._db = client
        self._table = table_name
        self._shards = shards  # every writer and reader of one table must agree on it

    # -- writing --------------------------------------------------------------------------------
    def writes(
        self, posting: Posting, balances_after: dict[Account, int] | None = None
    ) -> list[TransactWriteItemTypeDef]:
        """The transaction items that record ``posting``. ``balances_after`` gives the balance of
        per-person accounts after the posting, kept on their entries."""
        return [self._journal(posting), *self._lines(posting, balances_after)]

    def _journal(self, posting: Posting) -> TransactWriteItemTypeDef:
        """The posting itself, put once: its condition fails if it was posted before."""
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_item(
                    {
                        **keys.posting(posting.posting_id),
                        "kind": str(posting.kind),
                        "reference": posting.reference,
                        "posted_at": ts(posting.posted_at),
                        "lines": [
                            {"account": line.account.id, "debit": line.debit, "credit": line.credit}
                            for line in posting.lines
                        ],
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _lines(self, posting: Posting, balances_after: dict[Account, int] | None) -> list[TransactWriteItemTypeDef]:
        """The entries on per-person accounts, the books' totals and the settlement line."""
        at = ts(posting.posted_at)
        items: list[TransactWriteItemTypeDef] = []
        shard = total_shard(posting.posting_id, self._shards)
        for line in posting.lines:
            if line.account.kind in PER_PERSON:
                entry: dict[str, Any] = {
                    **keys.entry(line.account.id, at, posting.posting_id),
                    "posting_id": posting.posting_id,
                    "kind": str(posting.kind),
                    "debit": line.debit,
                    "credit": line.credit,
                }
                if balances_after and line.account in balances_after:
                    entry["balance_after"] = balances_after[line.account]
                items.append({"Put": {"TableName": self._table, "Item": to_item(entry)}})
            items.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": to_item(keys.book_total(line.account.book, shard)),
                        "UpdateExpression": "ADD debits :d, credits :c",
                        "ExpressionAttributeValues": {":d": value(line.debit), ":c": value(line.credit)},
                    }
                }
            )
        if posting.kind == PostingKind.PAYOUT_PAID:
            items.append(self._settlement_line(posting))
        return items

    def _settlement_line(self, posting: Posting) -> TransactWriteItemTypeDef:
        partner = next(line.account for line in posting.lines if line.account.kind == AccountKind.PAYMENT_PARTNER)
        shard = total_shard(posting.reference, SETTLEMENT_SHARDS)
        line = {
            "pk": keys.settlement_partition(partner.owner, posting.posted_at.date(), shard),
            "sk": posting.reference,
            "amount": posting.amount,
            "posting_id": posting.posting_id,
            "settled_at": ts(posting.posted_at),
        }
        return {"Put": {"TableName": self._table, "Item": to_item(line)}}

    def post(self, posting: Posting) -> bool:
        """A posting on its own (a budget allocation); False when it was posted before."""
        transaction = Transaction().add("posting", self._journal(posting)).add("lines", *self._lines(posting, None))
        try:
            self._db.transact_write_items(TransactItems=transaction.items)
        except ClientError as error:
            if transaction.cancellation(cancellation_codes(error)).failed("posting"):
                return False
            raise
        return True

    def card_issued(self, applicant_id: str, card: CardRecord) -> list[TransactWriteItemTypeDef]:
        """CardFundingLedger (the selection's outcome writer): the card's balance from the budget."""
        posting = card_funded(card.card_number, card.training_balance, card.issued_at)
        return self.writes(posting, {Account.card(card.card_number): card.training_balance})

    # -- reading --------------------------------------------------------------------------------
    def totals(self, books: Sequence[str]) -> dict[str, BookTotal]:
        wanted = [to_item(keys.book_total(book, shard)) for book in books for shard in range(self._shards)]
        batches = [wanted[i : i + _BATCH_GET] for i in range(0, len(wanted), _BATCH_GET)]
        totals: dict[str, BookTotal] = {}
        with ThreadPoolExecutor(_READ_THREADS) as pool:
            for items in pool.map(self._batch_get, batches):
                for item in items:
                    book = keys.book_of_total(str(item["pk"]))
                    total = BookTotal(int(item.get("debits", 0)), int(item.get("credits", 0)))
                    totals[book] = totals.get(book, BookTotal()) + total
        return totals

    def entries(self, account: Account, limit: int, next_token: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """A per-person account's lines, oldest first."""
        partition = entry_partition(account)
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": value(partition)},
            "Limit": limit,
            "ConsistentRead": True,
        }
        return query_page(self._db, query, partition, next_token)

    def settled(self, provider: str, day: date) -> dict[str, int]:
        """The transfers confirmed paid through ``provider`` that settled on ``day``: id -> amount."""
        paid: dict[str, int] = {}
        for shard in range(SETTLEMENT_SHARDS):
            partition = keys.settlement_partition(provider, day, shard)
            pages = self._db.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": value(partition)},
                ConsistentRead=True,
            )
            for page in pages:
                for item in page.get("Items", []):
                    line = from_item(item)
                    paid[str(line["sk"])] = int(line["amount"])
        return paid

    def _batch_get(self, wanted: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        request: Any = {self._table: {"Keys": wanted, "ConsistentRead": True}}
        while request:
            response = self._db.batch_get_item(RequestItems=request)
            found.extend(from_item(item) for item in response.get("Responses", {}).get(self._table, []))
            request = response.get("UnprocessedKeys") or None
        return found
