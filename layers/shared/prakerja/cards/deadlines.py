"""The card-deadline sweep (the card deadlines workflow, run daily by a schedule).

A card with no purchase by the end of its deadline (15 or 30 days by scheme) is revoked: the
applicant is blacklisted and the unused balance goes back to the State Treasury, in one
transaction with its ledger posting. Every card of a wave shares the wave's deadline, so the
sweep works wave by wave, in the wave's 64 participant shards; a wave is marked swept once all
its shards are done and is never looked at again.

Each revocation is conditioned on the card being unused and unchanged: a purchase that lands
first wins, and a re-run (a retried step, a second execution) revokes nothing twice.

A shard is swept a page at a time (one invocation each, at most CARDS_PER_INVOCATION cards):
each page hands back a cursor, where the next page starts, and the running totals; the state
machine loops on the shard until the cursor is null.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel

from prakerja.clock import Clock
from prakerja.ledger import postings
from prakerja.ledger.postings import Posting
from prakerja.program import load_program
from prakerja.registration.models import ApplicantStatus
from prakerja.registration.records import ApplicantRecord
from prakerja.selection.cards import purchase_deadline
from prakerja.waves.models import PARTICIPANT_SHARDS, Wave, WaveStatus

# Cards a shard's sweep revokes per invocation: about 2,000 transactions of ~25 ms each is under
# a minute, against the function's 300 s timeout. Only the selected hold cards: a wave of 600,000
# selected is ~9,400 cards a shard, 5 invocations (even all ~94 k participants of a 6 M wave's
# shard would be ~47).
CARDS_PER_INVOCATION = 2000


class DueCards(Protocol):
    def due(self, wave_id: str, shard: int, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        """A page of at most ``limit`` applicant ids whose card from this wave has not been used
        yet (may lag a moment behind: each is checked again before anything is written),
        starting after ``cursor`` (None: from the start), and the cursor after this page, None
        once the shard has no more. The cursor is opaque and holds keys only; it stays valid
        when its card has since left the index (revoked or used)."""
        ...

    def revoke(self, applicant: ApplicantRecord, posting: Posting | None, at: datetime) -> bool:
        """REVOKED, blacklisted, balance to zero, posting and notification, all or nothing;
        False when the card was used or changed meanwhile."""
        ...


class SweptWaves(Protocol):
    def all_waves(self) -> Iterator[Wave]: ...

    def mark_cards_swept(self, wave_id: str, revoked: int, returned: int, at: datetime) -> None: ...


class Applicants(Protocol):
    def get(self, applicant_id: str) -> ApplicantRecord | None: ...


class ShardItem(BaseModel):
    """The Map's item, and the state of its loop: where the shard's next page starts and what
    its pages so far revoked and returned."""

    wave_id: str
    shard: int
    cursor: str | None = None  # None: from the start
    revoked: int = 0
    returned: int = 0


class SweepPlan(BaseModel):
    wave_ids: list[str]
    shards: list[ShardItem]  # the Map's items: every shard of every due wave


class ShardSwept(BaseModel):
    """A page swept: the next ShardItem of the shard's loop (its cursor None once the shard is
    done), with the running totals of the shard's pages so far."""

    wave_id: str
    shard: int
    cursor: str | None = None  # where the next page starts; None: the shard is done
    revoked: int
    returned: int  # Rupiah back to the State Treasury


class WaveSwept(BaseModel):
    revoked: int
    returned: int


class SweepDone(BaseModel):
    waves: dict[str, WaveSwept]


def wave_deadline(wave: Wave) -> datetime | None:
    if wave.status is not WaveStatus.SELECTED or wave.closed_at is None:
        return None
    return purchase_deadline(wave.closed_at, load_program().schemes[wave.scheme])


class SweepPlanner:
    """The first and last steps: which waves are due, and marking them swept."""

    def __init__(self, waves: SweptWaves, clock: Clock) -> None:
        self._waves = waves
        self._clock = clock

    def plan(self) -> SweepPlan:
        now = self._clock.now()
        due = [
            w.wave_id
            for w in self._waves.all_waves()
            if w.cards_swept_at is None and (deadline := wave_deadline(w)) is not None and now > deadline
        ]
        return SweepPlan(
            wave_ids=due,
            shards=[ShardItem(wave_id=w, shard=s) for w in due for s in range(PARTICIPANT_SHARDS)],
        )

    def finish(self, wave_ids: Sequence[str], shards: Sequence[ShardSwept]) -> SweepDone:
        now = self._clock.now()
        totals: dict[str, WaveSwept] = {}
        for wave_id in wave_ids:
            mine = [s for s in shards if s.wave_id == wave_id]
            total = WaveSwept(revoked=sum(s.revoked for s in mine), returned=sum(s.returned for s in mine))
            self._waves.mark_cards_swept(wave_id, total.revoked, total.returned, now)
            totals[wave_id] = total
        return SweepDone(waves=totals)


class ShardSweeper:
    """The map step: a page of one shard of a due wave, card by card."""

    def __init__(self, cards: DueCards, applicants: Applicants, clock: Clock) -> None:
        self._cards = cards
        self._applicants = applicants
        self._clock = clock

    def sweep(self, item: ShardItem, limit: int = CARDS_PER_INVOCATION) -> ShardSwept:
        """At most ``limit`` due cards of the shard, from ``item.cursor`` on; the totals are the
        item's plus this page's."""
        if limit < 1:
            raise ValueError(f"a page holds at least one card, not {limit}")
        wave_id = item.wave_id
        due, cursor = self._cards.due(wave_id, item.shard, item.cursor, limit)
        # Neither may happen: the first would loop the state machine on this page for ever, the
        # second skip, past the cursor, the cards beyond the limit.
        if cursor is not None and cursor == item.cursor:
            raise RuntimeError(f"the due cards of {wave_id} shard {item.shard} did not move past their cursor")
        if len(due) > limit:
            raise RuntimeError(f"a page of {len(due)} due cards, more than its limit of {limit}")
        revoked = returned = 0
        for applicant_id in due:
            applicant = self._applicants.get(applicant_id)
            now = self._clock.now()
            card = applicant.card if applicant else None
            if (
                applicant is None
                or card is None
                or applicant.status is not ApplicantStatus.SELECTED
                or card.wave_id != wave_id
                or not card.past_deadline(now)
            ):
                continue
            posting = postings.card_revoked(card.card_number, card.training_balance, now)
            if self._cards.revoke(applicant, posting, now):
                revoked += 1
                returned += card.training_balance
        return ShardSwept(
            wave_id=wave_id,
            shard=item.shard,
            cursor=cursor,
            revoked=item.revoked + revoked,
            returned=item.returned + returned,
        )
