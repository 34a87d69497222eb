"""The marketplace in DynamoDB.

Catalog table: ``CATALOG / TRAINING#<id>``: every course in one partition. The catalog holds
thousands of courses, not millions, and is read far more than written; one partition serves
3,000 reads a second, and the API's list pages are cacheable in front of it.

Applicants table (beside the profile, so a purchase is one transaction with the card debit):
- ``APPLICANT#<id> / PURCHASE#<purchase id>``: a purchase; ids start with the time, so a query
  lists them newest first.
- ``VOUCHER#<code> / GUARD``: one purchase per voucher code, claimed in the purchase's
  transaction; platforms find a purchase by its code through it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from prakerja.adapters import keys
from prakerja.adapters.dynamodb import (
    Transaction,
    conditional,
    decode_token,
    encode_token,
    from_item,
    moment,
    move_status,
    query_page,
    to_item,
    transact,
    ts,
    value,
)
from prakerja.adapters.dynamodb_applicants import profile_key
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.ledger.postings import Account, Posting
from prakerja.marketplace.models import (
    Category,
    PurchaseRecord,
    PurchaseStatus,
    Review,
    Training,
    TrainingFilters,
    TrainingType,
)
from prakerja.marketplace.ports import BuyOutcome
from prakerja.registration.models import ApplicantStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def training_key(training_id: str) -> dict[str, Any]:
    return to_item(keys.training(training_id))


def purchase_key(applicant_id: str, purchase_id: str) -> dict[str, Any]:
    return to_item(keys.purchase(applicant_id, purchase_id))


class DynamoDBCatalog:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def add(self, training: Training) -> None:
        self._db.put_item(
            TableName=self._table, Item=_training_item(training), ConditionExpression="attribute_not_exists(pk)"
        )

    def replace(self, training: Training) -> bool:
        """Everything but the ratings, which reviews keep adding to meanwhile."""
        fields = _training_fields(training)
        return conditional(
            lambda: self._db.update_item(
                TableName=self._table,
                Key=training_key(training.training_id),
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={f"#{k}": k for k in fields},
                ExpressionAttributeValues={f":{k}": value(v) for k, v in fields.items()},
            )
        )

    def get(self, training_id: str) -> Training | None:
        item = self._db.get_item(TableName=self._table, Key=training_key(training_id)).get("Item")
        return _training(from_item(item)) if item else None

    def search(self, filters: TrainingFilters, limit: int, next_token: str | None) -> tuple[list[Training], str | None]:
        """Pages of the partition, filtered here: a course matches or not on a handful of
        fields, and the whole catalog is a few megabytes. The token is the last course
        returned, so a page never skips a course whatever the filter keeps."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": value(keys.CATALOG)},
        }
        if next_token:
            query["ExclusiveStartKey"] = decode_token(next_token, keys.CATALOG)
        found: list[Training] = []
        while True:
            response = self._db.query(**query)
            items = response.get("Items", [])
            for index, item in enumerate(items):
                training = _training(from_item(item))
                if not training.matches(filters):
                    continue
                found.append(training)
                if len(found) == limit:
                    more = index < len(items) - 1 or "LastEvaluatedKey" in response
                    return found, encode_token(training_key(training.training_id)) if more else None
            if "LastEvaluatedKey" not in response:
                return found, None
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class DynamoDBVouchers:
    """What platforms do with a purchase through its voucher: no money moves."""

    def __init__(self, client: DynamoDBClient, applicants_table: str) -> None:
        self._db = client
        self._applicants = applicants_table

    def get(self, applicant_id: str, purchase_id: str) -> PurchaseRecord | None:
        item = self._db.get_item(
            TableName=self._applicants, Key=purchase_key(applicant_id, purchase_id), ConsistentRead=True
        ).get("Item")
        return _purchase(from_item(item)) if item else None

    def by_voucher(self, voucher_code: str) -> PurchaseRecord | None:
        pointer = self._db.get_item(
            TableName=self._applicants, Key=to_item(keys.voucher_guard(voucher_code)), ConsistentRead=True
        ).get("Item")
        if not pointer or "purchase_id" not in pointer:
            return None
        found = from_item(pointer)
        return self.get(str(found["applicant_id"]), str(found["purchase_id"]))

    def redeem(self, purchase: PurchaseRecord, at: datetime) -> bool:
        return self._move(purchase, PurchaseStatus.PAID, PurchaseStatus.REDEEMED, redeemed_at=ts(at))

    def complete(self, purchase: PurchaseRecord, completed_at: datetime, certificate_id: str) -> bool:
        return self._move(
            purchase,
            PurchaseStatus.REDEEMED,
            PurchaseStatus.COMPLETED,
            completed_at=ts(completed_at),
            certificate_id=certificate_id,
        )

    def _move(self, purchase: PurchaseRecord, current: PurchaseStatus, new: PurchaseStatus, **fields: str) -> bool:
        key = purchase_key(purchase.applicant_id, purchase.purchase_id)
        return move_status(self._db, self._applicants, key, current.value, new.value, **fields)


class DynamoDBPurchases(DynamoDBVouchers):
    def __init__(
        self, client: DynamoDBClient, applicants_table: str, catalog_table: str, ledger: DynamoDBLedger
    ) -> None:
        super().__init__(client, applicants_table)
        self._catalog = catalog_table
        self._ledger = ledger

    def buy(self, purchase: PurchaseRecord, expected_balance: int, posting: Posting) -> BuyOutcome:
        at = value(ts(purchase.purchased_at))
        transaction = (
            Transaction()
            .add(
                "card",
                {
                    "Update": {
                        "TableName": self._applicants,
                        "Key": profile_key(purchase.applicant_id),
                        # The card stops being due for revocation with its first purchase.
                        "UpdateExpression": "SET card.training_balance = :after, updated_at = :at, "
                        "card.first_purchase_at = if_not_exists(card.first_purchase_at, :at) REMOVE card_due",
                        "ConditionExpression": "#status = :selected AND card.card_number = :card "
                        "AND card.training_balance = :expected",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {
                            ":after": value(purchase.balance_after),
                            ":expected": value(expected_balance),
                            ":card": value(purchase.card_number),
                            ":selected": value(ApplicantStatus.SELECTED.value),
                            ":at": at,
                        },
                    }
                },
            )
            .add(
                "purchase",
                {
                    "Put": {
                        "TableName": self._applicants,
                        "Item": _purchase_item(purchase),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            )
            .add(
                "voucher",
                {
                    "Put": {
                        "TableName": self._applicants,
                        "Item": to_item(
                            {
                                **keys.voucher_guard(purchase.voucher_code),
                                "applicant_id": purchase.applicant_id,
                                "purchase_id": purchase.purchase_id,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            )
            .add(
                "price",
                {
                    "ConditionCheck": {
                        "TableName": self._catalog,
                        "Key": training_key(purchase.training_id),
                        "ConditionExpression": "price = :price AND platform = :platform",
                        "ExpressionAttributeValues": {
                            ":price": value(purchase.price),
                            ":platform": value(purchase.platform),
                        },
                    }
                },
            )
            .add("ledger", *self._ledger.writes(posting, {Account.card(purchase.card_number): purchase.balance_after}))
        )
        cancelled = transaction.write(self._db)
        if cancelled is None:
            return BuyOutcome.BOUGHT
        if cancelled.failed("card"):
            return BuyOutcome.CARD_CHANGED
        if cancelled.failed("price"):
            return BuyOutcome.PRICE_CHANGED
        return BuyOutcome.VOUCHER_TAKEN  # or, as unlikely, a purchase id drawn twice: new ones

    def list(self, applicant_id: str, limit: int, next_token: str | None) -> tuple[list[PurchaseRecord], str | None]:
        partition = keys.applicant_partition(applicant_id)
        query: dict[str, Any] = {
            "TableName": self._applicants,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :purchase)",
            "ExpressionAttributeValues": {":pk": value(partition), ":purchase": value(keys.PURCHASE)},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        items, token = query_page(self._db, query, partition, next_token)
        return [_purchase(i) for i in items], token

    def review(self, purchase: PurchaseRecord, review: Review) -> bool:
        codes = transact(
            self._db,
            [
                {
                    "Update": {
                        "TableName": self._applicants,
                        "Key": purchase_key(purchase.applicant_id, purchase.purchase_id),
                        "UpdateExpression": "SET review = :review",
                        "ConditionExpression": "#status = :completed AND attribute_not_exists(review)",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {
                            ":review": value(
                                {"rating": review.rating, "text": review.text, "reviewed_at": ts(review.reviewed_at)}
                            ),
                            ":completed": value(PurchaseStatus.COMPLETED.value),
                        },
                    }
                },
                {
                    "Update": {
                        "TableName": self._catalog,
                        "Key": training_key(purchase.training_id),
                        "UpdateExpression": "ADD rating_sum :rating, rating_count :one",
                        "ExpressionAttributeValues": {":rating": value(review.rating), ":one": value(1)},
                    }
                },
            ],
        )
        return not codes


def _training_fields(t: Training) -> dict[str, Any]:
    """What ops set on a course (the ratings are the reviews')."""
    return {
        "training_id": t.training_id,
        "title": t.title,
        "institution": t.institution,
        "platform": t.platform,
        "type": t.type.value,
        "price": t.price,
        "hours": t.hours,
        "category": t.category.value,
        "created_at": ts(t.created_at),
        "updated_at": ts(t.updated_at),
    }


def _training_item(t: Training) -> dict[str, Any]:
    ratings = {"rating_sum": t.rating_sum, "rating_count": t.rating_count}
    return {**training_key(t.training_id), **to_item({**_training_fields(t), **ratings})}


def _training(item: dict[str, Any]) -> Training:
    return Training(
        training_id=item["training_id"],
        title=item["title"],
        institution=item["institution"],
        platform=item["platform"],
        type=TrainingType(item["type"]),
        price=int(item["price"]),
        hours=int(item["hours"]),
        category=Category(item["category"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
        rating_sum=int(item.get("rating_sum", 0)),
        rating_count=int(item.get("rating_count", 0)),
    )


def _purchase_item(p: PurchaseRecord) -> dict[str, Any]:
    return {
        **purchase_key(p.applicant_id, p.purchase_id),
        **to_item(
            {
                "purchase_id": p.purchase_id,
                "applicant_id": p.applicant_id,
                "card_number": p.card_number,
                "training_id": p.training_id,
                "title": p.title,
                "platform": p.platform,
                "price": p.price,
                "voucher_code": p.voucher_code,
                "status": p.status.value,
                "purchased_at": ts(p.purchased_at),
                "balance_after": p.balance_after,
            }
        ),
    }


def _purchase(item: dict[str, Any]) -> PurchaseRecord:
    review = item.get("review")
    return PurchaseRecord(
        purchase_id=item["purchase_id"],
        applicant_id=item["applicant_id"],
        card_number=item["card_number"],
        training_id=item["training_id"],
        title=item["title"],
        platform=item["platform"],
        price=int(item["price"]),
        voucher_code=item["voucher_code"],
        status=PurchaseStatus(item["status"]),
        purchased_at=datetime.fromisoformat(item["purchased_at"]),
        balance_after=int(item["balance_after"]),
        redeemed_at=moment(item.get("redeemed_at")),
        completed_at=moment(item.get("completed_at")),
        certificate_id=item.get("certificate_id"),
        review=Review(
            rating=int(review["rating"]),
            text=str(review["text"]),
            reviewed_at=datetime.fromisoformat(review["reviewed_at"]),
        )
        if review
        else None,
    )
