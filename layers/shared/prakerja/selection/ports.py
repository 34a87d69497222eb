"""The selection workflow's view of storage: the wave's participants, the lists, the files,
and where each participant's outcome is written."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from prakerja.registration.models import ApplicantStatus
from prakerja.selection.cards import CardRecord


class ObjectStore(Protocol):
    """The selection bucket (S3)."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def put_if_absent(self, key: str, data: bytes, content_type: str) -> bool:
        """Writes unless the key exists (atomically); False when it existed."""


@dataclass(frozen=True, slots=True)
class JoinedParticipant:
    applicant_id: str
    province_code: str
    nik_hash: str  # keyed hash, for re-screening; never exported or published
    other_nik_hashes: tuple[str, ...] = ()  # under the hashing keyring's other keys (a rotation)

    @property
    def nik_hashes(self) -> tuple[str, ...]:
        return (self.nik_hash, *self.other_nik_hashes)


class ParticipantSource(Protocol):
    def participants(self, wave_id: str, shard: int) -> Iterator[JoinedParticipant]:
        """Everyone who joined the wave in this shard (the wave no longer takes joins)."""


class ExclusionLookup(Protocol):
    def sources_for_many(self, nik_hashes: Collection[str]) -> dict[str, frozenset[str]]:
        """Every list naming each hash (hashes on no list may be left out)."""


@dataclass(frozen=True, slots=True)
class Settlement:
    """A participant's outcome: SELECTED with a card, NOT_SELECTED, or REJECTED at close."""

    applicant_id: str
    wave_id: str
    status: ApplicantStatus
    reasons: tuple[str, ...] = ()
    card: CardRecord | None = None


class Settled(StrEnum):
    APPLIED = "APPLIED"
    ALREADY_SETTLED = "ALREADY_SETTLED"  # an earlier run wrote it: nothing changes
    CARD_NUMBER_TAKEN = "CARD_NUMBER_TAKEN"  # nothing written; settle again with another number


class OutcomeWriter(Protocol):
    def settle(self, settlements: Sequence[Settlement]) -> list[Settled]:
        """Per settlement, atomically and only while the applicant is IN_WAVE of this wave:
        the status (and card), and the notification in the outbox. Same order as given."""
