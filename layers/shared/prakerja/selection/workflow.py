"""The selection workflow's steps, one Lambda each (state machine in infra/.../workflows.py):

    PlanSelection -> SnapshotShards (Distributed Map) -> MergeDraw -> ApplyShards (Distributed
    Map) -> PublishResult

Every step is safe to repeat (a Lambda retry, a redriven or a second execution): the snapshot
of a shard is written once and reused; summaries, thresholds and published pages are
deterministic functions of it; an outcome is written only while the applicant is still
IN_WAVE of this wave, so a card is issued once and a published result never changes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from prakerja.clock import Clock
from prakerja.errors import Conflict
from prakerja.program import Program
from prakerja.registration.eligibility import reasons_from_lists
from prakerja.registration.models import ApplicantStatus, ExclusionSource
from prakerja.selection import cards, files
from prakerja.selection.draw import ShardSummary, Thresholds, apply_shard, compute_thresholds, summarize_shard
from prakerja.selection.ports import (
    ExclusionLookup,
    ObjectStore,
    OutcomeWriter,
    ParticipantSource,
    Settled,
    Settlement,
)
from prakerja.waves.models import PARTICIPANT_SHARDS, ProvinceResult, Wave, WaveReport, WaveStatus
from prakerja.waves.ports import WaveNotFound, WaveRepository

JSON = "application/json"
CSV = "text/csv"
BINARY = "application/octet-stream"
_CARD_NUMBER_ATTEMPTS = 5
# Each shard's outcomes are written by this many children of the apply map (a part takes every
# APPLY_PARTS-th page of the shard), so that a child's Lambda finishes well within 15 minutes
# even when the table's write throughput, not the code, sets the pace (docs/selection.md).
APPLY_PARTS = 4


class SelectionNotStarted(Conflict):
    def __init__(self) -> None:
        super().__init__("WAVE_NOT_CLOSED", "The wave has not been closed with its seed.")


class SelectionInconsistent(RuntimeError):
    """Stored selection files disagree with each other: stop rather than publish."""


def closed_wave(waves: WaveRepository, wave_id: str) -> tuple[Wave, str]:
    """The wave and its revealed seed; only after the close."""
    wave = waves.get(wave_id)
    if wave is None:
        raise WaveNotFound()
    if wave.status is WaveStatus.OPEN or wave.seed is None or wave.closed_at is None:
        raise SelectionNotStarted()
    return wave, wave.seed


def _read(store: ObjectStore, key: str) -> bytes:
    data = store.get(key)
    if data is None:
        raise SelectionInconsistent(f"{key} is missing: run the earlier steps first")
    return data


@dataclass(frozen=True)
class Plan:
    shards_key: str  # the snapshot map's items: one per shard
    parts_key: str  # the apply map's items: APPLY_PARTS per shard


def plan_selection(waves: WaveRepository, store: ObjectStore, wave_id: str) -> Plan:
    """The Distributed Maps' items, written to the bucket for their ItemReader."""
    closed_wave(waves, wave_id)
    shards = [{"wave_id": wave_id, "shard": shard} for shard in range(PARTICIPANT_SHARDS)]
    parts = [{**s, "part": part, "parts": APPLY_PARTS} for s in shards for part in range(APPLY_PARTS)]
    plan = Plan(files.shards_key(wave_id), files.parts_key(wave_id))
    store.put(plan.shards_key, json.dumps(shards).encode(), JSON)
    store.put(plan.parts_key, json.dumps(parts).encode(), JSON)
    return plan


@dataclass(frozen=True)
class ShardCounts:
    shard: int
    participants: int
    eligible: int
    selected: int = 0
    written: int = 0  # outcomes written by this run (0 on a re-run)
    part: int = 0
    parts: int = 1

    def as_dict(self) -> dict[str, int]:
        return {
            "shard": self.shard,
            "part": self.part,
            "parts": self.parts,
            "participants": self.participants,
            "eligible": self.eligible,
            "selected": self.selected,
            "written": self.written,
        }


class SnapshotShard:
    """Reads one shard of the wave's participants, re-screens them against the lists as they
    are now (after the close), and writes the export once; then the shard's draw summary."""

    def __init__(
        self,
        waves: WaveRepository,
        participants: ParticipantSource,
        lists: ExclusionLookup,
        store: ObjectStore,
        program: Program,
    ) -> None:
        self._waves = waves
        self._participants = participants
        self._lists = lists
        self._store = store
        self._program = program

    def run(self, wave_id: str, shard: int) -> ShardCounts:
        wave, seed = closed_wave(self._waves, wave_id)
        key = files.export_key(wave_id, shard)
        existing = self._store.get(key)
        if existing is None:
            rows = self._screen(wave, shard)
            if not self._store.put_if_absent(key, files.export_csv(rows), CSV):
                existing = _read(self._store, key)  # a parallel run won: use its snapshot
        if existing is not None:
            rows = list(files.read_export(existing))
        summary = summarize_shard(seed, (row.participant() for row in rows))
        self._store.put(files.summary_key(wave_id, shard), summary.to_bytes(), BINARY)
        return ShardCounts(shard, participants=len(rows), eligible=len(summary))

    def _screen(self, wave: Wave, shard: int) -> list[files.ExportRow]:
        joined = sorted(self._participants.participants(wave.wave_id, shard), key=lambda p: p.applicant_id)
        # Every digest of each NIK: a list imported before a key rotation names it under the old key.
        listed = self._lists.sources_for_many({h for p in joined for h in p.nik_hashes})
        other_assistance = self._program.schemes[wave.scheme].exclude_other_assistance
        rows = []
        for p in joined:
            sources = frozenset().union(*(listed.get(h, frozenset()) for h in p.nik_hashes))
            reasons = reasons_from_lists(sources, other_assistance_rule=other_assistance)
            rows.append(
                files.ExportRow(
                    participant_id=p.applicant_id,
                    province_code=p.province_code,
                    priority=ExclusionSource.PRIORITY.value in sources,
                    reasons=tuple(r.value for r in reasons),
                )
            )
        return rows


class MergeDraw:
    """All shard summaries -> the thresholds that decide the draw, written once."""

    def __init__(self, waves: WaveRepository, store: ObjectStore) -> None:
        self._waves = waves
        self._store = store

    def run(self, wave_id: str) -> Thresholds:
        wave, _ = closed_wave(self._waves, wave_id)
        summaries = (
            ShardSummary.from_bytes(_read(self._store, files.summary_key(wave_id, shard)))
            for shard in range(PARTICIPANT_SHARDS)
        )
        thresholds = compute_thresholds(summaries, wave.quota_total, wave.quotas)
        if thresholds.participants and thresholds.seed_commitment != wave.seed_commitment:
            raise SelectionInconsistent("the summaries were drawn with another seed")
        data = thresholds.to_json().encode()
        key = files.thresholds_key(wave_id)
        if not self._store.put_if_absent(key, data, JSON) and _read(self._store, key) != data:
            raise SelectionInconsistent("the stored thresholds differ from a recomputation")
        return thresholds


class ApplyShard:
    """Decides every participant of a shard from the thresholds, writes the outcomes (a card
    for each one selected) and the shard's pages of the published draw."""

    def __init__(
        self, waves: WaveRepository, store: ObjectStore, outcomes: OutcomeWriter, clock: Clock, program: Program
    ) -> None:
        self._waves = waves
        self._store = store
        self._outcomes = outcomes
        self._clock = clock
        self._program = program

    def run(self, wave_id: str, shard: int, part: int = 0, parts: int = 1) -> ShardCounts:
        """Part ``part`` of ``parts``: the shard's pages number part, part + parts, ...; the
        whole shard is decided (cheap) so every part agrees on it."""
        if not 0 <= part < parts:
            raise ValueError("part must be in range(parts)")
        wave, seed = closed_wave(self._waves, wave_id)
        thresholds = Thresholds.from_json(_read(self._store, files.thresholds_key(wave_id)))
        rows = list(files.read_export(_read(self._store, files.export_key(wave_id, shard))))
        decisions = apply_shard(seed, (row.participant() for row in rows), thresholds)
        mine = [i for i in range(len(rows)) if (i // files.PAGE_SIZE) % parts == part]
        written = self._settle([self._settlement(wave, rows[i], decisions[i].selected) for i in mine])
        for page, data in files.draw_pages(shard, rows, decisions):
            if page % parts == part:
                self._store.put(files.draw_page_key(wave_id, shard, page), data, JSON)
        return ShardCounts(
            shard,
            participants=len(mine),
            eligible=sum(rows[i].eligible for i in mine),
            selected=sum(decisions[i].selected for i in mine),
            written=written,
            part=part,
            parts=parts,
        )

    def _settlement(self, wave: Wave, row: files.ExportRow, selected: bool) -> Settlement:
        if not row.eligible:
            return Settlement(row.participant_id, wave.wave_id, ApplicantStatus.REJECTED, row.reasons)
        if not selected:
            return Settlement(row.participant_id, wave.wave_id, ApplicantStatus.NOT_SELECTED)
        assert wave.closed_at is not None
        card = cards.issue_card(
            wave.wave_id, wave.scheme, self._program.schemes[wave.scheme], wave.closed_at, self._clock.now()
        )
        return Settlement(row.participant_id, wave.wave_id, ApplicantStatus.SELECTED, card=card)

    def _settle(self, settlements: Sequence[Settlement]) -> int:
        """Writes them all; a card number already in use is replaced by a fresh one and retried."""
        written = 0
        pending = list(settlements)
        for _ in range(_CARD_NUMBER_ATTEMPTS):
            results = self._outcomes.settle(pending)
            written += sum(result is Settled.APPLIED for result in results)
            pending = [
                _with_new_card_number(s)
                for s, r in zip(pending, results, strict=True)
                if r is Settled.CARD_NUMBER_TAKEN
            ]
            if not pending:
                return written
        raise SelectionInconsistent(f"{len(pending)} card numbers collided {_CARD_NUMBER_ATTEMPTS} times in a row")


def _with_new_card_number(settlement: Settlement) -> Settlement:
    assert settlement.card is not None
    return replace(settlement, card=replace(settlement.card, card_number=cards.new_card_number()))


class PublishResult:
    """Checks the shards' decisions against the merge, then publishes the wave's report."""

    def __init__(self, waves: WaveRepository, store: ObjectStore, clock: Clock) -> None:
        self._waves = waves
        self._store = store
        self._clock = clock

    def run(self, wave_id: str, applied: Iterable[ShardCounts]) -> WaveReport:
        wave, _ = closed_wave(self._waves, wave_id)
        if wave.report is not None:
            return wave.report  # already published: a re-run changes nothing
        thresholds = Thresholds.from_json(_read(self._store, files.thresholds_key(wave_id)))
        counts = list(applied)
        selected = thresholds.provincial_selected + thresholds.national_selected
        covered = sorted((c.shard, c.part) for c in counts)
        parts = {c.parts for c in counts}
        expected = [(shard, part) for shard in range(PARTICIPANT_SHARDS) for part in range(max(parts, default=1))]
        if len(parts) != 1 or covered != expected:
            raise SelectionInconsistent("not every shard (and part) was applied exactly once")
        if (sum(c.selected for c in counts), sum(c.participants for c in counts)) != (
            selected,
            thresholds.participants,
        ):
            raise SelectionInconsistent("the shards' decisions do not add up to the merged draw")
        report = _report(thresholds, self._clock)
        self._waves.publish_result(wave_id, report)
        return report


def _report(thresholds: Thresholds, clock: Clock) -> WaveReport:
    joined = Counter(thresholds.joined_by_province)
    provinces = sorted(set(joined) | set(thresholds.quotas))
    return WaveReport(
        participants=thresholds.participants,
        eligible=thresholds.eligible,
        selected=thresholds.provincial_selected + thresholds.national_selected,
        provincial_selected=thresholds.provincial_selected,
        national_selected=thresholds.national_selected,
        provinces={
            code: ProvinceResult(
                joined=joined[code],
                eligible=thresholds.eligible_by_province.get(code, 0),
                selected=thresholds.selected_by_province.get(code, 0),
            )
            for code in provinces
        },
        published_at=clock.now(),
    )
