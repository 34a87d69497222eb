"""The case view of ops (API.md, "Ops": ``POST /v1/ops/applicants/search``,
``GET /v1/ops/applicants/{applicant_id}``): find a person by NIK, e-mail or id, then see the
profile masked, its status and reasons, and one history of everything that happened to them.

A NIK or an e-mail is looked up by its keyed hash under every key of the keyring (a key rotation
in progress finds both), never in clear; what ops see was masked when the profile was written, so
the case view decrypts nothing (its function has no use of the personal-data key for it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from prakerja.cases.models import Action
from prakerja.errors import NotFound
from prakerja.grievances.models import TicketSummary
from prakerja.marketplace.models import PurchaseRecord
from prakerja.payouts.models import PayoutAccount, PayoutRecord
from prakerja.personal_data import HashingKeyring
from prakerja.registration.nik import parse_nik
from prakerja.registration.records import ApplicantRecord, HistoryEvent
from prakerja.registration.service import email_key

# One search finds a handful of profiles at most (one per NIK; an e-mail typed into a few).
SEARCH_LIMIT = 20


class CaseSearch(BaseModel):
    """Exactly one of ``nik``, ``email`` or ``applicant_id``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    nik: str | None = Field(default=None, pattern=r"^[0-9]{16}$")
    email: str | None = Field(default=None, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    applicant_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")

    @model_validator(mode="after")
    def _exactly_one(self) -> CaseSearch:
        given = [name for name in ("nik", "email", "applicant_id") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of nik, email or applicant_id")
        return self


class ActionLookup(Protocol):
    def actions_of(self, applicant_id: str) -> list[Action]: ...


class TicketLookup(Protocol):
    def mine(self, account_id: str, limit: int, next_token: str | None) -> tuple[list[TicketSummary], str | None]: ...


class ProfileLookup(Protocol):
    def get(self, applicant_id: str) -> ApplicantRecord | None: ...

    def applicant_ids_by_nik(self, nik_hashes: Iterable[str]) -> list[str]:
        """The profiles claiming this NIK under any of these digests (one at most)."""

    def applicant_ids_by_email(self, email_hashes: Iterable[str], limit: int) -> list[str]:
        """The profiles with this e-mail under any of these digests."""

    def history(self, applicant_id: str) -> list[HistoryEvent]: ...


class PurchaseHistory(Protocol):
    def list(
        self, applicant_id: str, limit: int, next_token: str | None
    ) -> tuple[list[PurchaseRecord], str | None]: ...


class PayoutHistory(Protocol):
    def all_of(self, applicant_id: str) -> list[PayoutRecord]: ...


class PayoutAccountLookup(Protocol):
    def account(self, applicant_id: str) -> PayoutAccount | None: ...


@dataclass(frozen=True)
class CaseEvent:
    at: datetime
    kind: str
    details: dict[str, object] = field(default_factory=dict)


# More of a case's history, from what other parts of the system keep (complaints, ops actions):
# each gives an applicant's events.
HistorySource = Callable[[ApplicantRecord], list[CaseEvent]]


@dataclass(frozen=True)
class Case:
    record: ApplicantRecord
    payout_account: PayoutAccount | None
    history: list[CaseEvent]


class ApplicantNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("APPLICANT_NOT_FOUND", "No applicant has this id.")


class CaseFiles:
    def __init__(
        self,
        profiles: ProfileLookup,
        purchases: PurchaseHistory,
        payouts: PayoutHistory,
        accounts: PayoutAccountLookup,
        keyring: Callable[[], HashingKeyring],
        more_history: Iterable[HistorySource] = (),
    ) -> None:
        self._profiles = profiles
        self._purchases = purchases
        self._payouts = payouts
        self._accounts = accounts
        self._keyring = keyring  # read at the first search by NIK or e-mail
        self._more_history = tuple(more_history)

    def search(self, query: CaseSearch) -> list[ApplicantRecord]:
        if query.applicant_id is not None:
            ids = [query.applicant_id]
        elif query.nik is not None:
            parse_nik(query.nik)  # a NIK that cannot exist: 422 with its code, not an empty answer
            ids = self._profiles.applicant_ids_by_nik(self._keyring().digests("nik", query.nik))
        else:
            assert query.email is not None
            digests = self._keyring().digests("email", email_key(query.email))
            ids = self._profiles.applicant_ids_by_email(digests, SEARCH_LIMIT)
        found = (self._profiles.get(applicant_id) for applicant_id in dict.fromkeys(ids))
        return [record for record in found if record is not None][:SEARCH_LIMIT]

    def case(self, applicant_id: str) -> Case:
        record = self._profiles.get(applicant_id)
        if record is None:
            raise ApplicantNotFound()
        account = self._accounts.account(applicant_id)
        events = [CaseEvent(e.at, e.kind, dict(e.details)) for e in self._profiles.history(applicant_id)]
        events += _card_events(record)
        events += self._purchase_events(applicant_id)
        events += _payout_events(account, self._payouts.all_of(applicant_id))
        for source in self._more_history:
            events += source(record)
        return Case(record=record, payout_account=account, history=sorted(events, key=lambda e: (e.at, e.kind)))

    def _purchase_events(self, applicant_id: str) -> list[CaseEvent]:
        events: list[CaseEvent] = []
        token: str | None = None
        while True:
            page, token = self._purchases.list(applicant_id, 200, token)
            for p in page:
                about: dict[str, object] = {"purchase_id": p.purchase_id, "training_id": p.training_id}
                events.append(CaseEvent(p.purchased_at, "PURCHASED", {**about, "price": p.price}))
                if p.redeemed_at:
                    events.append(CaseEvent(p.redeemed_at, "VOUCHER_REDEEMED", about))
                if p.completed_at:
                    events.append(CaseEvent(p.completed_at, "COURSE_COMPLETED", about))
            if not token:
                return events


def _card_events(record: ApplicantRecord) -> list[CaseEvent]:
    card = record.card
    if card is None:
        return []
    about: dict[str, object] = {"wave_id": card.wave_id, "scheme": card.scheme}
    events = [CaseEvent(card.issued_at, "CARD_ISSUED", about)]
    if card.revoked_at:
        events.append(CaseEvent(card.revoked_at, "CARD_REVOKED", about))
    return events


def _payout_events(account: PayoutAccount | None, payouts: list[PayoutRecord]) -> list[CaseEvent]:
    events: list[CaseEvent] = []
    if account is not None:
        linked: dict[str, object] = {"provider": account.provider.value, "status": account.status.value}
        events.append(CaseEvent(account.linked_at, "PAYOUT_ACCOUNT_LINKED", linked))
        if account.validated_at:
            checked = {**linked, "reason": account.reason}
            events.append(CaseEvent(account.validated_at, "PAYOUT_ACCOUNT_CHECKED", checked))
    for p in payouts:
        about: dict[str, object] = {"payout_id": p.payout_id, "kind": p.kind.value, "amount": p.amount}
        events.append(CaseEvent(p.created_at, "INCENTIVE_SCHEDULED", about))
        if p.paid_at:
            events.append(CaseEvent(p.paid_at, "PAYOUT_PAID", about))
        if p.failed_at:
            failure = p.failure_code.value if p.failure_code else None
            events.append(CaseEvent(p.failed_at, "PAYOUT_FAILED", {**about, "failure_code": failure}))
    return events


def action_events(actions: ActionLookup) -> HistorySource:
    """Ops actions on the applicant: each request, and its decision (executed, rejected or lapsed),
    with who and why (reasons are ops' words, bounded; ids only, never personal data)."""

    def events(record: ApplicantRecord) -> list[CaseEvent]:
        found: list[CaseEvent] = []
        for action in actions.actions_of(record.applicant_id):
            about: dict[str, object] = {"action_id": action.action_id, "action": action.kind.value}
            requested = {**about, "by": action.requested_by, "reason": action.reason, "status": action.status.value}
            found.append(CaseEvent(action.requested_at, "ACTION_REQUESTED", requested))
            if action.decided_at is not None:
                decided = {**about, "by": action.decided_by, "status": action.status.value}
                if action.lapsed_code:
                    decided["code"] = action.lapsed_code
                found.append(CaseEvent(action.decided_at, f"ACTION_{action.status.value}", decided))
        return found

    return events


def ticket_events(tickets: TicketLookup) -> HistorySource:
    """The complaints filed from the applicant's account: each one filed, and where it stands
    (its messages stay in the ticket: GET /v1/ops/complaints/{ticket_id})."""

    def events(record: ApplicantRecord) -> list[CaseEvent]:
        found: list[CaseEvent] = []
        token: str | None = None
        while True:
            page, token = tickets.mine(record.account_id, 200, token)
            for ticket in page:
                about: dict[str, object] = {"ticket_id": ticket.ticket_id, "category": ticket.category.value}
                found.append(CaseEvent(ticket.created_at, "COMPLAINT_FILED", about))
                if ticket.updated_at != ticket.created_at:
                    found.append(
                        CaseEvent(ticket.updated_at, "COMPLAINT_UPDATED", {**about, "status": ticket.status.value})
                    )
            if not token:
                return found

    return events
