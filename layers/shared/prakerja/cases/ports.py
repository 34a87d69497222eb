"""What the ops actions need from the rest of the system."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

from prakerja.audit.models import AuditEntry
from prakerja.cases.models import Action, ActionStatus
from prakerja.ledger.postings import Posting
from prakerja.registration.records import ApplicantRecord


class Reverifier(Protocol):
    def reverify(self, applicant_id: str) -> object:
        """The registration checks run again on the applicant's current profile
        (prakerja.registration.service.Reverification). Raises ProfileLocked (409) while they are
        in a wave or selected, VerificationInProgress (409) while a run is going."""


# What an action changes outside the cases table, written in the transaction that records it.
@dataclass(frozen=True)
class RevokeCard:
    """The card-deadline sweep's revocation (prakerja.cards.deadlines), of a card as read."""

    applicant: ApplicantRecord
    posting: Posting | None  # the unused balance back to the treasury; None when nothing is left
    at: datetime


@dataclass(frozen=True)
class LiftBlacklist:
    nik_hashes: tuple[str, ...]  # the NIK's digests that are on the BLACKLIST list now


@dataclass(frozen=True)
class HoldPayouts:
    applicant_id: str
    action_id: str
    at: datetime


@dataclass(frozen=True)
class ReleasePayouts:
    applicant_id: str


Effect = RevokeCard | LiftBlacklist | HoldPayouts | ReleasePayouts


class Saved(Enum):
    SAVED = "SAVED"
    STATUS_CHANGED = "STATUS_CHANGED"  # the action is no longer as it was read: nothing written
    EFFECT_REFUSED = "EFFECT_REFUSED"  # the change no longer applies as read: nothing written


class ActionRepository(Protocol):
    def get(self, action_id: str) -> Action | None: ...

    def actions_of(self, applicant_id: str) -> list[Action]:
        """An applicant's actions, oldest first (one query)."""
        ...

    def pending(self, limit: int, next_token: str | None) -> tuple[list[Action], str | None]:
        """Actions waiting for approval, oldest first, a page at a time (a sparse index)."""
        ...

    def save(
        self, action: Action, previous: ActionStatus | None, entries: Sequence[AuditEntry], effect: Effect | None
    ) -> Saved:
        """``action`` written if it is new (``previous`` None) or still ``previous``, with its
        audit ``entries`` and its ``effect``, all in one transaction or nothing."""
        ...


class CaseFacts(Protocol):
    """What decides whether an action applies, read just before it is written."""

    def applicant(self, applicant_id: str) -> ApplicantRecord | None: ...

    def blacklisted(self, nik_hashes: Sequence[str]) -> tuple[str, ...]:
        """Those of ``nik_hashes`` that are on the BLACKLIST list."""
        ...

    def payouts_held(self, applicant_id: str) -> bool: ...
