"""Applicants in DynamoDB.

Items of the applicants table (partition keys are random ids or keyed hashes, so the
registration surge spreads over partitions):
- ``APPLICANT#<id> / PROFILE``: the profile (personal data encrypted in ``personal_data``)
- ``ACCOUNT#<sub> / GUARD`` and ``NIK#<hash> / GUARD``: one profile per account and per NIK,
  claimed in the same transaction as the profile (the NIK under every key of the hashing keyring)
- ``KK#<hash> / SLOTS``: the applicant ids holding the family card's places. One such item per
  card whatever the keys: the first of the card's digests that has one holds the places, and a
  new one is only created while the card has none under any other key (checked in the same
  transaction), so the places are counted in one item through a key rotation
- ``CARD#<number> / GUARD``: one card per number, claimed when the card is issued (the card
  itself is the profile's ``card`` attribute)
- ``APPLICANT#<id> / EVENT#<at>#<kind>``: the profile's history (registration, each identity
  check and decision, each restart of the checks), written with the change it records; codes only
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from prakerja.adapters import keys
from prakerja.adapters.dynamodb import (
    TRANSACTION_CANCELED,
    Transaction,
    cancellation_codes,
    from_item,
    moment,
    set_or_remove,
    to_item,
    ts,
    value,
)
from prakerja.registration.eligibility import RegistryVerdict
from prakerja.registration.models import (
    ApplicantStatus,
    EducationLevel,
    EmploymentStatus,
    Gender,
    RejectionReason,
)
from prakerja.registration.ports import KkLimitReached, NikAlreadyRegistered, ProfileChanged, ProfileExists
from prakerja.registration.records import ApplicantRecord, AssessmentRecord, HistoryEvent, MaskedContact
from prakerja.selection.cards import CardRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import ConditionCheckTypeDef, TransactWriteItemTypeDef, UpdateTypeDef

# The sparse index of profiles by the e-mail's keyed hash (infra: constructs/data.py), for ops' search.
BY_EMAIL = "ApplicantsByEmail"

# The kinds of a profile's recorded events (HistoryEvent.kind).
REGISTERED = "REGISTERED"
IDENTITY_CHECKED = "IDENTITY_CHECKED"
DECIDED = "DECIDED"
VERIFICATION_RESTARTED = "VERIFICATION_RESTARTED"
WAVE_JOINED = "WAVE_JOINED"  # adapters/dynamodb_waves.py
DRAW_OUTCOME = "DRAW_OUTCOME"  # adapters/dynamodb_outcomes.py

_ACCOUNTS_KEPT = 10_000  # a few MB at most; the oldest is forgotten first
_KK_ATTEMPTS = 5  # the card's places found under another key than expected: look again


def profile_key(applicant_id: str) -> dict[str, Any]:
    return to_item(keys.profile(applicant_id))


class DynamoDBApplicantRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._db = client
        self._table = table_name
        # An account's applicant never changes once claimed (guards are never deleted), so a warm
        # function reads each account's guard once; the profile itself is always read fresh.
        self._applicant_of_account: dict[str, str] = {}

    def create(self, applicant: ApplicantRecord) -> None:
        def guard(key: keys.Key) -> TransactWriteItemTypeDef:
            return {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item({**key, "applicant_id": applicant.applicant_id}),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }

        transaction = (
            Transaction()
            .add("account", guard(keys.account_guard(applicant.account_id)))
            .add("niks", *(guard(keys.nik_guard(nik_hash)) for nik_hash in dict.fromkeys(applicant.nik_hashes)))
            .add(
                "profile",
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": _to_profile_item(applicant),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            )
            .add("event", self._event(applicant.applicant_id, applicant.created_at, REGISTERED))
        )
        try:
            self._db.transact_write_items(
                TransactItems=transaction.items,
                # A retried request (same applicant id) is not applied twice.
                ClientRequestToken=applicant.applicant_id[:36],
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != TRANSACTION_CANCELED:
                raise
            cancelled = transaction.cancellation(cancellation_codes(error))
            if cancelled.failed("account"):
                raise ProfileExists() from None
            if cancelled.failed("niks"):
                raise NikAlreadyRegistered() from None
            raise

    def get(self, applicant_id: str) -> ApplicantRecord | None:
        item = self._db.get_item(TableName=self._table, Key=profile_key(applicant_id), ConsistentRead=True).get("Item")
        return _from_profile_item(from_item(item)) if item else None

    def find_by_account(self, account_id: str) -> ApplicantRecord | None:
        applicant_id = self._applicant_of_account.get(account_id)
        if applicant_id is None:
            guard = self._db.get_item(
                TableName=self._table,
                Key=to_item(keys.account_guard(account_id)),
                ConsistentRead=True,
            ).get("Item")
            if not guard:
                return None
            applicant_id = str(from_item(guard)["applicant_id"])
            if len(self._applicant_of_account) >= _ACCOUNTS_KEPT:
                del self._applicant_of_account[next(iter(self._applicant_of_account))]
            self._applicant_of_account[account_id] = applicant_id
        return self.get(applicant_id)

    def record_assessment(self, applicant_id: str, assessment: AssessmentRecord) -> None:
        self._db.update_item(
            TableName=self._table,
            Key=profile_key(applicant_id),
            UpdateExpression="SET assessment = :a, updated_at = :t",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={
                ":a": value(
                    {
                        "score": assessment.score,
                        "passed": assessment.passed,
                        "attempts": assessment.attempts,
                        "taken_at": ts(assessment.taken_at),
                    }
                ),
                ":t": value(ts(assessment.taken_at)),
            },
        )

    def record_registry_verdict(self, applicant_id: str, verdict: RegistryVerdict, at: datetime) -> None:
        transaction = (
            Transaction()
            .add(
                "verdict",
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": profile_key(applicant_id),
                        "UpdateExpression": "SET registry = :v, registry_checked_at = :t, updated_at = :t",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": {":v": value(verdict.value), ":t": value(ts(at))},
                    }
                },
            )
            .add("event", self._event(applicant_id, at, IDENTITY_CHECKED, verdict=verdict.value))
        )
        if (cancelled := transaction.write(self._db)) is not None and cancelled.failed("verdict"):
            raise LookupError(f"applicant {applicant_id} does not exist")

    def decide(
        self,
        applicant_id: str,
        status: ApplicantStatus,
        reasons: Iterable[RejectionReason],
        at: datetime,
        *,
        kk_hashes: tuple[str, ...] = (),
        kk_limit: int = 0,
    ) -> ApplicantRecord:
        decision: UpdateTypeDef = {
            "TableName": self._table,
            "Key": profile_key(applicant_id),
            "UpdateExpression": "SET #status = :status, reasons = :reasons, decided_at = :t, updated_at = :t",
            "ConditionExpression": "#status = :verifying",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":status": value(status.value),
                ":reasons": value([r.value for r in reasons]),
                ":verifying": value(ApplicantStatus.VERIFYING.value),
                ":t": value(ts(at)),
            },
        }
        event = self._event(applicant_id, at, DECIDED, status=status.value, reasons=[r.value for r in reasons])
        if not kk_hashes:
            # A repeat of a decision taken before fails its condition: the decision stands.
            Transaction().add("decision", {"Update": decision}).add("event", event).write(self._db)
        elif not any(
            self._decide_with_kk_place(decision, event, kk_hashes, applicant_id, kk_limit) for _ in range(_KK_ATTEMPTS)
        ):
            raise RuntimeError("the family card's places kept moving between keys")
        record = self.get(applicant_id)
        assert record is not None
        return record

    def _decide_with_kk_place(
        self,
        decision: UpdateTypeDef,
        event: TransactWriteItemTypeDef,
        kk_hashes: tuple[str, ...],
        applicant_id: str,
        kk_limit: int,
    ) -> bool:
        """The decision and the card's place in one transaction: True once written (or decided
        before), False if the places appeared under another of the card's keys meanwhile."""
        holder, absent = self._kk_holder(kk_hashes)
        elsewhere: list[TransactWriteItemTypeDef] = [{"ConditionCheck": self._kk_absent(kk_hash)} for kk_hash in absent]
        transaction = (
            Transaction()
            .add("kk_place", {"Update": self._kk_place(holder, applicant_id, kk_limit)})
            .add("decision", {"Update": decision})
            .add("event", event)
            .add("kk_elsewhere", *elsewhere)
        )
        try:
            self._db.transact_write_items(TransactItems=transaction.items)
        except ClientError as error:
            if error.response["Error"]["Code"] != TRANSACTION_CANCELED:
                raise
            cancelled = transaction.cancellation(cancellation_codes(error))
            if cancelled.failed("decision"):
                return True  # decided before (a retried step): the decision stands as it is
            if cancelled.failed("kk_place"):
                raise KkLimitReached() from None
            if cancelled.failed("kk_elsewhere"):
                return False
            raise
        return True

    def _kk_holder(self, kk_hashes: tuple[str, ...]) -> tuple[str, list[str]]:
        """The digest whose item holds the card's places (the first that has one, else the
        first), and the digests that must still have none for that to hold."""
        distinct = list(dict.fromkeys(kk_hashes))
        for index, kk_hash in enumerate(distinct):
            if self._kk_item(kk_hash) is not None:
                return kk_hash, distinct[:index]
        return distinct[0], distinct[1:]

    def _kk_item(self, kk_hash: str) -> dict[str, Any] | None:
        item = self._db.get_item(TableName=self._table, Key=to_item(keys.kk_slots(kk_hash)), ConsistentRead=True).get(
            "Item"
        )
        return from_item(item) if item else None

    def _kk_absent(self, kk_hash: str) -> ConditionCheckTypeDef:
        return {
            "TableName": self._table,
            "Key": to_item(keys.kk_slots(kk_hash)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }

    def _kk_place(self, kk_hash: str, applicant_id: str, kk_limit: int) -> UpdateTypeDef:
        return {
            "TableName": self._table,
            "Key": to_item(keys.kk_slots(kk_hash)),
            "UpdateExpression": "ADD members :me",
            "ConditionExpression": "attribute_not_exists(members) OR size(members) < :limit OR contains(members, :id)",
            "ExpressionAttributeValues": {
                ":me": {"SS": [applicant_id]},
                ":limit": value(kk_limit),
                ":id": value(applicant_id),
            },
        }

    def restart_verification(self, current: ApplicantRecord, restarted: ApplicantRecord, cause: str) -> None:
        item = from_item(_to_profile_item(restarted))
        expression, names, values = set_or_remove({name: item.get(name) for name in _RESTARTED_FIELDS})
        names["#attempt"] = "verification_attempt"
        values |= {":current": value(current.status.value), ":was": value(current.verification_attempt)}
        # Profiles from before attempts were counted have none: that is attempt 1.
        was = (
            "#attempt = :was"
            if current.verification_attempt > 1
            else "attribute_not_exists(#attempt) OR #attempt = :was"
        )
        transaction = (
            Transaction()
            .add(
                "profile",
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": profile_key(current.applicant_id),
                        "UpdateExpression": expression,
                        "ConditionExpression": f"#status = :current AND ({was})",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values,
                    }
                },
            )
            .add("kk_release", *self._kk_release(current))
            .add(
                "event",
                self._event(
                    current.applicant_id,
                    restarted.updated_at,
                    VERIFICATION_RESTARTED,
                    cause=cause,
                    attempt=restarted.verification_attempt,
                ),
            )
        )
        cancelled = transaction.write(self._db)
        if cancelled is not None:
            # The profile moved on, or the card's place moved (a concurrent decision): read again.
            raise ProfileChanged()

    def _kk_release(self, current: ApplicantRecord) -> list[TransactWriteItemTypeDef]:
        """The family card's place this profile holds, given back (under whichever of its card's
        digests holds the places)."""
        releases: list[TransactWriteItemTypeDef] = []
        for kk_hash in dict.fromkeys(current.kk_hashes):
            item = self._kk_item(kk_hash)
            if item is not None and current.applicant_id in set(item.get("members", set())):
                releases.append(
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": to_item(keys.kk_slots(kk_hash)),
                            "UpdateExpression": "DELETE members :me",
                            "ConditionExpression": "contains(members, :id)",
                            "ExpressionAttributeValues": {
                                ":me": {"SS": [current.applicant_id]},
                                ":id": value(current.applicant_id),
                            },
                        }
                    }
                )
        return releases

    def history(self, applicant_id: str) -> list[HistoryEvent]:
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :event)",
            ExpressionAttributeValues={
                ":pk": value(keys.applicant_partition(applicant_id)),
                ":event": value(keys.EVENT),
            },
        )
        return [
            HistoryEvent(
                at=datetime.fromisoformat(item["at"]),
                kind=item["kind"],
                details={k: _plain(v) for k, v in item.get("details", {}).items()},
            )
            for page in pages
            for item in map(from_item, page.get("Items", []))
        ]

    def _event(self, applicant_id: str, at: datetime, kind: str, **details: object) -> TransactWriteItemTypeDef:
        return history_event(self._table, applicant_id, at, kind, **details)

    def applicant_ids_by_nik(self, nik_hashes: Iterable[str]) -> list[str]:
        found: list[str] = []
        for nik_hash in dict.fromkeys(nik_hashes):
            guard = self._db.get_item(TableName=self._table, Key=to_item(keys.nik_guard(nik_hash))).get("Item")
            if guard:
                found.append(str(from_item(guard)["applicant_id"]))
        return found

    def applicant_ids_by_email(self, email_hashes: Iterable[str], limit: int) -> list[str]:
        found: list[str] = []
        for email_hash in dict.fromkeys(email_hashes):
            response = self._db.query(
                TableName=self._table,
                IndexName=BY_EMAIL,
                KeyConditionExpression="email_hash = :h",
                ExpressionAttributeValues={":h": value(email_hash)},
                Limit=limit,
            )
            found += [keys.applicant_of(str(from_item(i)["pk"])) for i in response.get("Items", [])]
        return found[:limit]

    def kk_has_room(self, kk_hashes: tuple[str, ...], applicant_id: str, kk_limit: int) -> bool:
        members: set[str] = set()
        for kk_hash in dict.fromkeys(kk_hashes):
            members |= set((self._kk_item(kk_hash) or {}).get("members", set()))
        return applicant_id in members or len(members) < kk_limit


def history_event(
    table: str, applicant_id: str, at: datetime, kind: str, **details: object
) -> TransactWriteItemTypeDef:
    """A profile's history event (the case view), put in the transaction of the change it records;
    ``details`` are codes, ids and whole numbers, never personal data."""
    return {
        "Put": {
            "TableName": table,
            "Item": to_item(
                {**keys.applicant_event(applicant_id, ts(at), kind), "at": ts(at), "kind": kind, "details": details}
            ),
        }
    }


def _plain(stored: object) -> object:
    """A detail as it was written: DynamoDB gives numbers back as Decimal (details are codes,
    lists of codes and whole numbers)."""
    if isinstance(stored, Decimal):
        return int(stored)
    if isinstance(stored, list):
        return [_plain(v) for v in stored]
    return stored


def _to_profile_item(a: ApplicantRecord) -> dict[str, Any]:
    return to_item(
        {
            **keys.profile(a.applicant_id),
            "applicant_id": a.applicant_id,
            "account_id": a.account_id,
            "nik_hash": a.nik_hash,
            "kk_hash": a.kk_hash,
            "nik_masked": a.nik_masked,
            "other_nik_hashes": list(a.other_nik_hashes) or None,
            "other_kk_hashes": list(a.other_kk_hashes) or None,
            "personal_data": a.personal_data,
            "gender": a.gender.value,
            "province_code": a.province_code,
            "regency_code": a.regency_code,
            "education_level": a.education_level.value,
            "employment_status": a.employment_status.value,
            "status": a.status.value,
            "reasons": [r.value for r in a.reasons],
            "registry": a.registry.value if a.registry else None,
            "wave_id": a.wave_id,
            "created_at": ts(a.created_at),
            "updated_at": ts(a.updated_at),
            "verification_attempt": a.verification_attempt,
            "masked": {"full_name": a.masked.full_name, "phone": a.masked.phone, "email": a.masked.email}
            if a.masked
            else None,
            "email_hash": a.email_hash,
        }
    )


# What a restart of the checks rewrites on the profile (a correction may change any of them; the
# NIK and its hashes, the account and the history never change). None: removed.
_RESTARTED_FIELDS = (
    "kk_hash",
    "other_kk_hashes",
    "personal_data",
    "masked",
    "email_hash",
    "gender",
    "province_code",
    "regency_code",
    "education_level",
    "employment_status",
    "status",
    "reasons",
    "registry",
    "verification_attempt",
    "updated_at",
)


def _from_profile_item(item: dict[str, Any]) -> ApplicantRecord:
    assessment = item.get("assessment")
    return ApplicantRecord(
        applicant_id=item["applicant_id"],
        account_id=item["account_id"],
        nik_hash=item["nik_hash"],
        kk_hash=item["kk_hash"],
        nik_masked=item["nik_masked"],
        other_nik_hashes=tuple(item.get("other_nik_hashes", ())),
        other_kk_hashes=tuple(item.get("other_kk_hashes", ())),
        personal_data=item["personal_data"],
        gender=Gender(item["gender"]),
        province_code=item["province_code"],
        regency_code=item["regency_code"],
        education_level=EducationLevel(item["education_level"]),
        employment_status=EmploymentStatus(item["employment_status"]),
        status=ApplicantStatus(item["status"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
        reasons=tuple(RejectionReason(r) for r in item.get("reasons", [])),
        registry=RegistryVerdict(item["registry"]) if item.get("registry") else None,
        assessment=AssessmentRecord(
            score=int(assessment["score"]),
            passed=bool(assessment["passed"]),
            attempts=int(assessment["attempts"]),
            taken_at=datetime.fromisoformat(assessment["taken_at"]),
        )
        if assessment
        else None,
        wave_id=item.get("wave_id"),
        card=card_from_item(item["card"]) if item.get("card") else None,
        verification_attempt=int(item.get("verification_attempt", 1)),
        masked=MaskedContact(**item["masked"]) if item.get("masked") else None,
        email_hash=item.get("email_hash"),
    )


def card_to_item(card: CardRecord) -> dict[str, Any]:
    item = {
        "card_number": card.card_number,
        "scheme": card.scheme,
        "training_balance": card.training_balance,
        "purchase_deadline": ts(card.purchase_deadline),
        "wave_id": card.wave_id,
        "issued_at": ts(card.issued_at),
        "first_purchase_at": ts(card.first_purchase_at) if card.first_purchase_at else None,
        "revoked_at": ts(card.revoked_at) if card.revoked_at else None,
    }
    return {k: v for k, v in item.items() if v is not None}


def card_from_item(item: dict[str, Any]) -> CardRecord:
    return CardRecord(
        card_number=item["card_number"],
        scheme=item["scheme"],
        training_balance=int(item["training_balance"]),
        purchase_deadline=datetime.fromisoformat(item["purchase_deadline"]),
        wave_id=item["wave_id"],
        issued_at=datetime.fromisoformat(item["issued_at"]),
        first_purchase_at=moment(item.get("first_purchase_at")),
        revoked_at=moment(item.get("revoked_at")),
    )
