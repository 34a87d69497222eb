"""The selection workflow's writes: each participant's outcome, its card and its notification,
in one transaction per participant.

The transaction is conditioned on the applicant being IN_WAVE of this wave: a second run finds
the outcome already there and writes nothing, so nobody gets two cards or a changed result.
The notification goes to the outbox table in the same transaction (the transactional outbox):
there is a message for each outcome written, and none for one that was not.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from prakerja.adapters.dynamodb import cancellation_codes, to_item, ts, value
from prakerja.adapters.dynamodb_applicants import CONDITION_FAILED, GUARD, card_to_item, profile_key
from prakerja.clock import Clock
from prakerja.registration.models import ApplicantStatus
from prakerja.selection.cards import CardRecord
from prakerja.selection.ports import Settled, Settlement

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

WAVE_RESULT = "WAVE_RESULT"
OUTBOX_RETENTION = timedelta(days=30)  # TTL: sent messages do not pile up
SETTLE_THREADS = 16
_RETRIED = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
_ATTEMPTS = 8


class CardFundingLedger(Protocol):
    """The seam for the ledger (issue 4): postings that commit the scheme's training money to
    a new card, written in the same transaction as the card."""

    def card_issued(self, applicant_id: str, card: CardRecord) -> list[TransactWriteItemTypeDef]: ...


class NoLedgerYet:
    """Until the ledger exists, issuing a card posts nothing."""

    def card_issued(self, applicant_id: str, card: CardRecord) -> list[TransactWriteItemTypeDef]:
        return []


def outbox_key(applicant_id: str, kind: str, wave_id: str) -> dict[str, str]:
    """One message per applicant, kind and wave: a rewrite replaces, never duplicates."""
    return {"pk": f"APPLICANT#{applicant_id}", "sk": f"{kind}#{wave_id}"}


class DynamoDBOutcomeWriter:
    def __init__(
        self,
        client: DynamoDBClient,
        applicants_table: str,
        outbox_table: str,
        clock: Clock,
        ledger: CardFundingLedger | None = None,
        threads: int = SETTLE_THREADS,
    ) -> None:
        self._db = client
        self._threads = threads
        self._applicants = applicants_table
        self._outbox = outbox_table
        self._clock = clock
        self._ledger = ledger or NoLedgerYet()

    def settle(self, settlements: Sequence[Settlement]) -> list[Settled]:
        with ThreadPoolExecutor(self._threads) as pool:
            return list(pool.map(self._settle_one, settlements))

    def _settle_one(self, settlement: Settlement) -> Settled:
        items = self._transaction(settlement)
        for attempt in range(_ATTEMPTS):
            try:
                self._db.transact_write_items(TransactItems=items)
            except ClientError as error:
                codes = cancellation_codes(error)
                if codes and codes[0] == CONDITION_FAILED:
                    return Settled.ALREADY_SETTLED
                if settlement.card is not None and len(codes) > 1 and codes[1] == CONDITION_FAILED:
                    return Settled.CARD_NUMBER_TAKEN
                if (
                    not (set(codes) & _RETRIED or error.response["Error"]["Code"] in _RETRIED)
                    or attempt == _ATTEMPTS - 1
                ):
                    raise
                time.sleep(min(2.0, 0.05 * 2**attempt) * random.random())  # noqa: S311 - jitter, not a secret
            else:
                return Settled.APPLIED
        raise AssertionError("unreachable")

    def _transaction(self, s: Settlement) -> list[TransactWriteItemTypeDef]:
        now = self._clock.now()
        values: dict[str, Any] = {
            ":status": value(s.status.value),
            ":reasons": value(list(s.reasons)),
            ":in_wave": value(ApplicantStatus.IN_WAVE.value),
            ":wave": value(s.wave_id),
            ":at": value(ts(now)),
        }
        update = "SET #status = :status, reasons = :reasons, updated_at = :at"
        if s.card is not None:
            update += ", card = :card"
            values[":card"] = value(card_to_item(s.card))
        items: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self._applicants,
                    "Key": profile_key(s.applicant_id),
                    "UpdateExpression": update,
                    "ConditionExpression": "#status = :in_wave AND wave_id = :wave",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": values,
                }
            }
        ]
        if s.card is not None:
            items.append(
                {
                    "Put": {
                        "TableName": self._applicants,
                        "Item": to_item(
                            {"pk": f"CARD#{s.card.card_number}", "sk": GUARD, "applicant_id": s.applicant_id}
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        message: dict[str, Any] = {
            **outbox_key(s.applicant_id, WAVE_RESULT, s.wave_id),
            "kind": WAVE_RESULT,
            "applicant_id": s.applicant_id,
            "wave_id": s.wave_id,
            "status": s.status.value,
            "reasons": list(s.reasons),
            "created_at": ts(now),
            "expires_at": int((now + OUTBOX_RETENTION).timestamp()),
        }
        if s.card is not None:
            message["purchase_deadline"] = ts(s.card.purchase_deadline)
        items.append({"Put": {"TableName": self._outbox, "Item": to_item(message)}})
        if s.card is not None:
            items.extend(self._ledger.card_issued(s.applicant_id, s.card))
        return items
