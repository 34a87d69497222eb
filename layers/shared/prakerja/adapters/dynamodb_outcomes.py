"""The selection workflow's writes: each participant's outcome, its card and its notification,
in one transaction per participant.

The transaction is conditioned on the applicant being IN_WAVE of this wave: a second run finds
the outcome already there and writes nothing, so nobody gets two cards or a changed result.
The notification goes to the outbox table in the same transaction (the transactional outbox):
there is a message for each outcome written, and none for one that was not.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from prakerja.adapters import keys
from prakerja.adapters.dynamodb import Transaction, outbox_message, to_item, ts, value
from prakerja.adapters.dynamodb_applicants import DRAW_OUTCOME, card_to_item, history_event, profile_key
from prakerja.adapters.dynamodb_cards import card_due_key
from prakerja.clock import Clock
from prakerja.registration.models import ApplicantStatus
from prakerja.selection.cards import CardRecord
from prakerja.selection.ports import Settled, Settlement

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

WAVE_RESULT = "WAVE_RESULT"
SETTLE_THREADS = 16


class CardFundingLedger(Protocol):
    """The ledger's postings that move the scheme's training money from the program budget to
    a new card, written in the same transaction as the card (DynamoDBLedger)."""

    def card_issued(self, applicant_id: str, card: CardRecord) -> list[TransactWriteItemTypeDef]: ...


class DynamoDBOutcomeWriter:
    def __init__(
        self,
        client: DynamoDBClient,
        applicants_table: str,
        outbox_table: str,
        clock: Clock,
        ledger: CardFundingLedger,
        threads: int = SETTLE_THREADS,
    ) -> None:
        self._db = client
        self._threads = threads
        self._applicants = applicants_table
        self._outbox = outbox_table
        self._clock = clock
        self._ledger = ledger

    def settle(self, settlements: Sequence[Settlement]) -> list[Settled]:
        with ThreadPoolExecutor(self._threads) as pool:
            return list(pool.map(self._settle_one, settlements))

    def _settle_one(self, settlement: Settlement) -> Settled:
        cancelled = self._transaction(settlement).write(self._db)
        if cancelled is None:
            return Settled.APPLIED
        if cancelled.failed("outcome"):
            return Settled.ALREADY_SETTLED
        if settlement.card is not None and cancelled.failed("card_number"):
            return Settled.CARD_NUMBER_TAKEN
        raise AssertionError(f"unexpected cancellation {cancelled}")  # the ledger's posting ids follow the card's

    def _transaction(self, s: Settlement) -> Transaction:
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
            update += ", card = :card, card_due = :due"
            values[":card"] = value(card_to_item(s.card))
            values[":due"] = value(card_due_key(s.wave_id, s.applicant_id))
        transaction = Transaction().add(
            "outcome",
            {
                "Update": {
                    "TableName": self._applicants,
                    "Key": profile_key(s.applicant_id),
                    "UpdateExpression": update,
                    "ConditionExpression": "#status = :in_wave AND wave_id = :wave",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": values,
                }
            },
        )
        if s.card is not None:
            transaction.add(
                "card_number",
                {
                    "Put": {
                        "TableName": self._applicants,
                        "Item": to_item({**keys.card_guard(s.card.card_number), "applicant_id": s.applicant_id}),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            )
        message = outbox_message(WAVE_RESULT, s.applicant_id, s.wave_id, s.status.value, now, reasons=list(s.reasons))
        if s.card is not None:
            message["purchase_deadline"] = ts(s.card.purchase_deadline)
        transaction.add("notification", {"Put": {"TableName": self._outbox, "Item": to_item(message)}})
        event = history_event(
            self._applicants,
            s.applicant_id,
            now,
            DRAW_OUTCOME,
            wave_id=s.wave_id,
            status=s.status.value,
            reasons=list(s.reasons),
        )
        transaction.add("event", event)
        if s.card is not None:
            transaction.add("ledger", *self._ledger.card_issued(s.applicant_id, s.card))
        return transaction
