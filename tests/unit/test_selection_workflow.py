"""The selection workflow's steps on fakes: what a wave's participants end up with."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from prakerja.errors import Conflict, DomainError
from prakerja.program import load_program
from prakerja.registration.models import (
    ApplicantStatus,
    EducationLevel,
    EmploymentStatus,
    ExclusionSource,
    Gender,
    RejectionReason,
)
from prakerja.registration.records import ApplicantRecord, AssessmentRecord
from prakerja.selection import cards, files
from prakerja.selection.cards import is_card_number
from prakerja.selection.draw import Participant, draw
from prakerja.selection.workflow import (
    ApplyShard,
    MergeDraw,
    Plan,
    PublishResult,
    SelectionInconsistent,
    ShardCounts,
    SnapshotShard,
    plan_selection,
)
from prakerja.waves.models import PARTICIPANT_SHARDS, CloseRequest, WaveReport, WaveRequest, WaveStatus
from prakerja.waves.service import WaveService
from tests.fakes import (
    FakeApplicants,
    FakeExclusions,
    FakeObjectStore,
    FakeOutcomes,
    FakeSelectionStarter,
    FakeWaves,
    FixedClock,
)

SEED = "rahasia-gelombang-uji-0001"


class Program:
    """Applicants, a wave, and the five steps wired to fakes."""

    def __init__(self) -> None:
        self.clock = FixedClock()
        self.applicants = FakeApplicants()
        self.waves = FakeWaves(self.applicants)
        self.lists = FakeExclusions()
        self.store = FakeObjectStore()
        self.outcomes = FakeOutcomes(self.applicants)
        self.starter = FakeSelectionStarter()
        self.service = WaveService(
            self.waves, self.clock, applicants=self.applicants, selection=self.starter, new_id=self._wave_id
        )
        self._waves_created = 0
        self.program = load_program()

    def _wave_id(self) -> str:
        self._waves_created += 1
        return f"wave-{self._waves_created}"

    def wave(self, quota_total: int, quotas: dict[str, int] | None = None, seed: str = SEED) -> str:
        now = self.clock.now()
        return self.service.create(
            WaveRequest(
                name="Gelombang uji",
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=3),
                quota_total=quota_total,
                quotas=quotas or {},
                scheme="2023",
                seed_commitment=hashlib.sha256(seed.encode()).hexdigest(),
            )
        ).wave_id

    def applicant(self, number: int, province: str) -> ApplicantRecord:
        now = self.clock.now()
        record = ApplicantRecord(
            applicant_id=f"applicant-{number:05d}",
            account_id=f"account-{number}",
            nik_hash=f"k1:nik-{number}",
            kk_hash=f"k1:kk-{number}",
            nik_masked="32**********0001",
            personal_data="ciphertext",
            gender=Gender.F,
            province_code=province,
            regency_code=f"{province}01",
            education_level=EducationLevel.SMA,
            employment_status=EmploymentStatus.UNEMPLOYED,
            status=ApplicantStatus.VERIFIED,
            created_at=now,
            updated_at=now,
            assessment=AssessmentRecord(score=80, passed=True, attempts=1, taken_at=now),
        )
        self.applicants.create(record)
        return record

    def join(self, wave_id: str, *records: ApplicantRecord) -> None:
        for record in records:
            self.service.join(record.account_id, wave_id)

    def close(self, wave_id: str, seed: str = SEED) -> str:
        return self.service.close(wave_id, CloseRequest(seed=seed))

    def drawn(self, wave_id: str) -> Plan:
        """The state machine's first three steps: plan, snapshot every shard, merge."""
        plan = plan_selection(self.waves, self.store, wave_id)
        snapshot = SnapshotShard(self.waves, self.waves, self.lists, self.store, self.program)
        for item in json.loads(self.store.objects[plan.shards_key]):
            snapshot.run(wave_id, item["shard"])
        MergeDraw(self.waves, self.store).run(wave_id)
        return plan

    def applying(self) -> ApplyShard:
        return ApplyShard(self.waves, self.store, self.outcomes, self.clock, self.program)

    def run(self, wave_id: str) -> WaveReport:
        """The state machine's path: the draw, then apply every part of every shard, publish."""
        plan = self.drawn(wave_id)
        apply = self.applying()
        parts = json.loads(self.store.objects[plan.parts_key])
        applied = [apply.run(wave_id, item["shard"], item["part"], item["parts"]) for item in parts]
        return PublishResult(self.waves, self.store, self.clock).run(wave_id, applied)

    def status(self, record: ApplicantRecord) -> ApplicantStatus:
        return self.applicants.profiles[record.applicant_id].status

    def published(self, wave_id: str) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for key in sorted(k for k in self.store.objects if k.startswith(f"draw/{wave_id}/")):
            rows.extend(json.loads(self.store.objects[key])["participants"])
        return rows


def populate(world: Program, wave_id: str, per_province: dict[str, int]) -> list[ApplicantRecord]:
    records = []
    number = len(world.applicants.profiles)
    for province, n in per_province.items():
        for _ in range(n):
            number += 1
            records.append(world.applicant(number, province))
    world.join(wave_id, *records)
    return records


def test_the_result_is_the_reference_draw_with_quotas_filled_and_never_exceeded() -> None:
    world = Program()
    wave_id = world.wave(quota_total=60, quotas={"32": 20, "35": 15, "11": 5})
    records = populate(world, wave_id, {"32": 80, "35": 10, "11": 30, "73": 40})
    world.close(wave_id)
    report = world.run(wave_id)

    selected = {r.applicant_id for r in records if world.status(r) is ApplicantStatus.SELECTED}
    reference = draw(
        SEED,
        [Participant(r.applicant_id, r.province_code, False, True) for r in records],
        60,
        {"32": 20, "35": 15, "11": 5},
    )
    assert selected == reference.selected
    by_province = Counter(r.province_code for r in records if r.applicant_id in selected)
    assert len(selected) == 60
    assert by_province["32"] >= 20 and by_province["11"] >= 5
    assert by_province["35"] == 10  # fewer joined than the quota: all of them, the rest went national
    assert report.selected == 60 and report.participants == 160
    assert {code: p.selected for code, p in report.provinces.items() if p.selected} == dict(by_province)
    assert {r.applicant_id for r in records if world.status(r) is ApplicantStatus.NOT_SELECTED} == {
        r.applicant_id for r in records
    } - selected
    assert world.waves.waves[wave_id].status is WaveStatus.SELECTED


def test_each_selected_participant_gets_one_card_from_the_scheme() -> None:
    world = Program()
    wave_id = world.wave(quota_total=30)
    records = populate(world, wave_id, {"32": 50})
    world.close(wave_id)
    world.run(wave_id)

    scheme = world.program.schemes["2023"]
    cards = [world.applicants.profiles[r.applicant_id].card for r in records]
    issued = [card for card in cards if card is not None]
    assert len(issued) == 30
    assert len({card.card_number for card in issued}) == 30
    closed_at = world.waves.waves[wave_id].closed_at
    assert closed_at is not None
    for card in issued:
        assert is_card_number(card.card_number)
        assert card.training_balance == scheme.training_balance == 3_500_000
        assert card.scheme == "2023" and card.wave_id == wave_id
        # The scheme's days counted from the Jakarta date of the close, to the end of that day.
        assert card.purchase_deadline.date() == (closed_at + timedelta(hours=7)).date() + timedelta(days=15)
        assert card.purchase_deadline.astimezone(UTC) > closed_at + timedelta(days=14)
    # Everyone is told: one message per outcome.
    assert sorted(s.applicant_id for s in world.outcomes.outbox) == sorted(r.applicant_id for r in records)


def test_priority_participants_are_drawn_first() -> None:
    world = Program()
    wave_id = world.wave(quota_total=10)
    records = populate(world, wave_id, {"32": 100})
    priority = records[90:97]
    world.lists.add(ExclusionSource.PRIORITY, [r.nik_hash for r in priority], world.clock.now())
    world.close(wave_id)
    world.run(wave_id)
    assert all(world.status(r) is ApplicantStatus.SELECTED for r in priority)
    assert sum(world.status(r) is ApplicantStatus.SELECTED for r in records) == 10
    published = {row["participant_id"]: row for row in world.published(wave_id)}
    assert {pid for pid, row in published.items() if row["priority"]} == {r.applicant_id for r in priority}


def test_a_participant_registered_during_a_key_rotation_is_found_on_lists_under_either_key() -> None:
    """Identified under k2, with the k1 digest kept: lists imported before the rotation (under
    k1 only) still give priority and still exclude."""
    world = Program()
    wave_id = world.wave(quota_total=10)
    populate(world, wave_id, {"32": 30})
    rotated = []
    for number in (101, 102):
        record = world.applicant(number, "32")
        record = replace(record, nik_hash=f"k2:nik-{number}", other_nik_hashes=(record.nik_hash,))
        world.applicants.profiles[record.applicant_id] = record
        rotated.append(record)
    world.join(wave_id, *rotated)
    prioritised, excluded = rotated
    world.lists.add(ExclusionSource.PRIORITY, ["k1:nik-101"], world.clock.now())
    world.lists.add(ExclusionSource.ASN, ["k1:nik-102"], world.clock.now())
    world.close(wave_id)
    world.run(wave_id)
    published = {row["participant_id"]: row for row in world.published(wave_id)}
    assert published[prioritised.applicant_id]["priority"] and world.status(prioritised) is ApplicantStatus.SELECTED
    assert world.applicants.profiles[excluded.applicant_id].reasons == (RejectionReason.EXCLUDED_OCCUPATION,)


def test_lists_changed_after_joining_are_honoured_at_close() -> None:
    world = Program()
    wave_id = world.wave(quota_total=200)  # room for everyone: only the lists keep people out
    records = populate(world, wave_id, {"32": 20})
    became_civil_servant, in_school, on_blacklist = records[0], records[1], records[2]
    at = world.clock.now()
    world.lists.add(ExclusionSource.ASN, [became_civil_servant.nik_hash], at)
    world.lists.add(ExclusionSource.FORMAL_EDUCATION, [in_school.nik_hash], at)
    world.lists.add("BLACKLIST", [on_blacklist.nik_hash], at)
    world.lists.add(ExclusionSource.OTHER_ASSISTANCE, [records[3].nik_hash], at)  # not a 2023-scheme exclusion
    world.close(wave_id)
    report = world.run(wave_id)

    profiles = world.applicants.profiles
    assert profiles[became_civil_servant.applicant_id].status is ApplicantStatus.REJECTED
    assert [r.value for r in profiles[became_civil_servant.applicant_id].reasons] == ["EXCLUDED_OCCUPATION"]
    assert [r.value for r in profiles[in_school.applicant_id].reasons] == ["IN_FORMAL_EDUCATION"]
    assert [r.value for r in profiles[on_blacklist.applicant_id].reasons] == ["BLACKLISTED"]
    assert world.status(records[3]) is ApplicantStatus.SELECTED
    assert report.eligible == 17 and report.selected == 17
    assert report.provinces["32"].joined == 20 and report.provinces["32"].eligible == 17
    published = {row["participant_id"]: row for row in world.published(wave_id)}
    assert published[became_civil_servant.applicant_id]["eligible"] is False
    assert published[became_civil_servant.applicant_id]["selected"] is False


def test_a_rerun_changes_nothing_even_when_the_lists_changed_meanwhile() -> None:
    world = Program()
    wave_id = world.wave(quota_total=15, quotas={"32": 5})
    records = populate(world, wave_id, {"32": 20, "35": 20})
    world.close(wave_id)
    first_report = world.run(wave_id)
    first = {r.applicant_id: world.applicants.profiles[r.applicant_id] for r in records}
    first_files = dict(world.store.objects)
    messages = len(world.outcomes.outbox)

    world.lists.add(ExclusionSource.TNI, [r.nik_hash for r in records], world.clock.now())
    world.clock.advance(hours=2)
    again = world.run(wave_id)

    assert again == first_report
    assert {r.applicant_id: world.applicants.profiles[r.applicant_id] for r in records} == first
    assert world.store.objects == first_files
    assert len(world.outcomes.outbox) == messages  # nobody is told twice


def test_a_run_that_stopped_half_way_completes_without_a_second_card() -> None:
    world = Program()
    wave_id = world.wave(quota_total=40)
    records = populate(world, wave_id, {"32": 60})
    world.close(wave_id)
    world.drawn(wave_id)
    apply = world.applying()
    for shard in range(PARTICIPANT_SHARDS // 2):  # the execution failed here
        apply.run(wave_id, shard, part=0, parts=2)
    cards_before = {pid: p.card for pid, p in world.applicants.profiles.items() if p.card}

    world.run(wave_id)  # redriven from the start

    cards = {pid: p.card for pid, p in world.applicants.profiles.items() if p.card}
    assert len(cards) == 40
    assert {pid: cards[pid] for pid in cards_before} == cards_before
    assert len(world.outcomes.card_numbers) == 40
    assert sum(world.status(r) is ApplicantStatus.SELECTED for r in records) == 40


def test_a_card_number_already_in_use_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    world = Program()
    wave_id = world.wave(quota_total=5)
    records = populate(world, wave_id, {"32": 5})
    world.close(wave_id)
    taken = "9000000000000009"
    world.outcomes.taken_numbers.add(taken)  # as if another card had it
    numbers = iter([taken, "9000000000000017", "9000000000000025", "9000000000000033", "9000000000000041"])
    monkeypatch.setattr(cards, "new_card_number", lambda: next(numbers, None) or "9999999999999995")
    world.run(wave_id)
    assert not world.outcomes.taken_numbers  # the colliding number was offered and refused
    issued = [world.applicants.profiles[r.applicant_id].card for r in records]
    numbers_issued = {card.card_number for card in issued if card}
    assert len(numbers_issued) == 5
    assert taken not in numbers_issued


def test_unselected_participants_join_the_next_wave_and_selected_ones_cannot() -> None:
    world = Program()
    first = world.wave(quota_total=3)
    records = populate(world, first, {"32": 8})
    world.close(first)
    world.run(first)
    second = world.wave(quota_total=3, seed="another-seed-for-wave-2")
    for record in records:
        if world.status(record) is ApplicantStatus.SELECTED:
            with pytest.raises(Conflict) as refused:
                world.service.join(record.account_id, second)
            assert refused.value.code == "ALREADY_RECIPIENT"
        else:
            world.service.join(record.account_id, second)
            assert world.status(record) is ApplicantStatus.IN_WAVE


def test_closing_checks_the_seed_and_starts_one_selection() -> None:
    world = Program()
    wave_id = world.wave(quota_total=3)
    late = world.applicant(999, "32")
    with pytest.raises(DomainError) as mismatch:
        world.close(wave_id, seed="not-the-committed-seed")
    assert mismatch.value.code == "SEED_MISMATCH"
    assert world.waves.waves[wave_id].status is WaveStatus.OPEN

    arn = world.close(wave_id)
    assert world.close(wave_id) == arn  # a repeated close: the same execution, not a second one
    assert world.starter.started == [wave_id]
    wave = world.waves.waves[wave_id]
    assert (wave.status, wave.seed, wave.execution_arn) == (WaveStatus.SELECTING, SEED, arn)
    with pytest.raises(Conflict) as closed:
        world.service.join(late.account_id, wave_id)
    assert closed.value.code == "WAVE_CLOSED"

    world.run(wave_id)
    with pytest.raises(Conflict) as done:
        world.close(wave_id)
    assert done.value.code == "WAVE_NOT_OPEN"


def test_steps_refuse_a_wave_not_closed_and_publish_refuses_counts_that_do_not_add_up() -> None:
    world = Program()
    wave_id = world.wave(quota_total=3)
    populate(world, wave_id, {"32": 4})
    with pytest.raises(Conflict) as not_closed:
        plan_selection(world.waves, world.store, wave_id)
    assert not_closed.value.code == "WAVE_NOT_CLOSED"
    world.close(wave_id)
    with pytest.raises(SelectionInconsistent):
        MergeDraw(world.waves, world.store).run(wave_id)  # no summaries yet
    world.drawn(wave_id)
    short = [ShardCounts(shard, 0, 0) for shard in range(PARTICIPANT_SHARDS)]
    with pytest.raises(SelectionInconsistent, match="add up"):
        PublishResult(world.waves, world.store, world.clock).run(wave_id, short)
    apply = world.applying()
    complete = [apply.run(wave_id, shard) for shard in range(PARTICIPANT_SHARDS)]
    with pytest.raises(SelectionInconsistent, match="exactly once"):
        PublishResult(world.waves, world.store, world.clock).run(wave_id, complete[1:])
    with pytest.raises(SelectionInconsistent, match="exactly once"):
        PublishResult(world.waves, world.store, world.clock).run(wave_id, [*complete, complete[0]])
    assert world.waves.waves[wave_id].status is WaveStatus.SELECTING


def test_the_export_holds_no_nik_hash_and_pages_list_every_participant_once() -> None:
    world = Program()
    wave_id = world.wave(quota_total=5)
    records = populate(world, wave_id, {"32": 30})
    world.close(wave_id)
    world.run(wave_id)
    exported = b"".join(v for k, v in world.store.objects.items() if "/export/" in k)
    assert b"k1:" not in exported
    rows = world.published(wave_id)
    assert sorted(str(row["participant_id"]) for row in rows) == sorted(r.applicant_id for r in records)
    assert sum(bool(row["selected"]) for row in rows) == 5
    assert all(len(str(row["key"])) == 64 for row in rows)
    assert len([k for k in world.store.objects if k.startswith(f"draw/{wave_id}/")]) >= PARTICIPANT_SHARDS


def test_export_rows_survive_the_csv_round_trip() -> None:
    rows = [
        files.ExportRow("a-1", "32", True),
        files.ExportRow("a-2", "11", False, ("EXCLUDED_OCCUPATION", "BLACKLISTED")),
    ]
    assert list(files.read_export(files.export_csv(rows))) == rows
    with pytest.raises(ValueError, match="not a participant export"):
        list(files.read_export(b"id,province\n"))
    with pytest.raises(ValueError, match="contradicts"):
        list(files.read_export(files.export_csv(rows).replace(b"a-1,32,1,1", b"a-1,32,1,0")))


def test_deadline_is_end_of_day_in_jakarta() -> None:
    from prakerja.selection.cards import purchase_deadline

    scheme = load_program().schemes["2020"]
    late_evening_utc = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)  # already 23 Nov in Jakarta
    deadline = purchase_deadline(late_evening_utc, scheme)
    assert deadline.isoformat() == "2026-12-23T23:59:59+07:00"


def test_parts_of_a_shard_write_disjoint_pages_and_outcomes_that_add_up_to_the_shard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(files, "PAGE_SIZE", 3)  # several pages in one shard without thousands of people
    world = Program()
    wave_id = world.wave(quota_total=40)
    populate(world, wave_id, {"32": 900})  # ~14 a shard: five pages of 3
    world.close(wave_id)
    world.drawn(wave_id)
    apply = world.applying()
    whole = apply.run(wave_id, 7)  # the reference: shard 7 in one go (writes nothing new below)
    parts = [apply.run(wave_id, 7, part, 3) for part in range(3)]
    assert sum(p.participants for p in parts) == whole.participants
    assert sum(p.selected for p in parts) == whole.selected
    assert all(p.written == 0 for p in parts)  # the whole-shard run settled them already
    pages = sorted(k for k in world.store.objects if k.startswith(f"draw/{wave_id}/07/"))
    assert len(pages) == -(-whole.participants // 3) and len(pages) > 3
    with pytest.raises(ValueError, match="range"):
        apply.run(wave_id, 7, 3, 3)
