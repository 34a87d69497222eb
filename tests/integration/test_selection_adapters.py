"""The selection workflow's storage on moto: participants with their NIK hashes, the outcome
transactions (conditions, the card-number guard, the outbox), the bucket's conditional writes,
batched list lookups and the publication of a wave's report."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import boto3
import pytest

from localcloud.provision import Resources
from prakerja.adapters.dynamodb import from_item
from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository
from prakerja.adapters.dynamodb_exclusions import DynamoDBExclusionRepository
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.adapters.dynamodb_outcomes import DynamoDBOutcomeWriter
from prakerja.adapters.dynamodb_waves import DynamoDBWaveRepository
from prakerja.adapters.s3_objects import S3ObjectStore
from prakerja.adapters.stepfunctions_starter import SelectionWorkflowStarter
from prakerja.registration.models import ApplicantStatus, ExclusionSource
from prakerja.registration.records import AssessmentRecord
from prakerja.selection.cards import CardRecord
from prakerja.selection.ports import Settled, Settlement
from prakerja.waves.models import PARTICIPANT_SHARDS, ProvinceResult, Wave, WaveReport, WaveStatus
from prakerja.waves.ports import JoinRefused, WaveNotOpen
from tests.fakes import FixedClock
from tests.integration.conftest import REGION, physical
from tests.integration.test_applicant_repository import NOW, applicant


class Tables:
    def __init__(self, aws: Resources, clients: dict[str, Any]) -> None:
        db = clients["dynamodb"]
        self.db = db
        self.applicants = DynamoDBApplicantRepository(db, physical(aws, "DataApplicantsTable"))
        self.waves = DynamoDBWaveRepository(db, physical(aws, "DataWavesTable"), physical(aws, "DataApplicantsTable"))
        self.outbox_table = physical(aws, "DataOutboxTable")
        # One thread: moto's in-process backends are not thread-safe (the local runtime
        # serializes requests, and the e2e tests run the writer's threads there).
        self.ledger = DynamoDBLedger(db, physical(aws, "DataLedgerTable"))
        self.outcomes = DynamoDBOutcomeWriter(
            db, physical(aws, "DataApplicantsTable"), self.outbox_table, FixedClock(), self.ledger, threads=1
        )
        self.wave = Wave(
            wave_id="wave-it",
            name="Gelombang integrasi",
            opens_at=NOW - timedelta(hours=1),
            closes_at=NOW + timedelta(days=1),
            quota_total=10,
            quotas={"32": 3},
            scheme="2023",
            seed_commitment="0" * 64,
            status=WaveStatus.OPEN,
            created_at=NOW,
        )
        self.waves.create(self.wave)

    def joined(self, applicant_id: str, province: str = "32", other_nik_hashes: tuple[str, ...] = ()) -> None:
        record = replace(applicant(applicant_id, other_nik_hashes=other_nik_hashes), province_code=province)
        self.applicants.create(record)
        self.applicants.decide(applicant_id, ApplicantStatus.VERIFIED, [], NOW)
        self.applicants.record_assessment(applicant_id, AssessmentRecord(80, True, 1, NOW))
        self.waves.join(self.wave, record, NOW)

    def outbox(self) -> list[dict[str, Any]]:
        return [from_item(i) for i in self.db.scan(TableName=self.outbox_table)["Items"]]


@pytest.fixture
def tables(aws: Resources, clients: dict[str, Any]) -> Tables:
    return Tables(aws, clients)


def card(number: str = "9123456789012344") -> CardRecord:
    return CardRecord(number, "2023", 3_500_000, NOW + timedelta(days=15), "wave-it", NOW)


def test_participants_come_back_per_shard_with_their_nik_hash(tables: Tables) -> None:
    for i in range(12):
        tables.joined(f"a-{i:02d}", "32" if i % 2 else "31")
    found = [p for shard in range(PARTICIPANT_SHARDS) for p in tables.waves.participants("wave-it", shard)]
    assert sorted(p.applicant_id for p in found) == [f"a-{i:02d}" for i in range(12)]
    assert {p.applicant_id: p.nik_hash for p in found}["a-03"] == "k1:nik-a-03"
    assert tables.waves.joined_by_province("wave-it") == {"31": 6, "32": 6}


def test_a_participant_joined_during_a_key_rotation_comes_back_with_every_digest(tables: Tables) -> None:
    tables.joined("rotated", other_nik_hashes=("k2:nik-rotated",))
    tables.joined("plain")
    found = {
        p.applicant_id: p for shard in range(PARTICIPANT_SHARDS) for p in tables.waves.participants("wave-it", shard)
    }
    assert found["rotated"].nik_hashes == ("k1:nik-rotated", "k2:nik-rotated")
    assert found["plain"].nik_hashes == ("k1:nik-plain",)


def test_no_join_after_the_close_and_the_close_happens_once(tables: Tables) -> None:
    tables.joined("early")
    tables.waves.start_selection("wave-it", "the-seed", NOW)
    with pytest.raises(WaveNotOpen):
        tables.waves.start_selection("wave-it", "another-seed", NOW)
    late = applicant("late")
    tables.applicants.create(late)
    tables.applicants.decide("late", ApplicantStatus.VERIFIED, [], NOW)
    tables.applicants.record_assessment("late", AssessmentRecord(80, True, 1, NOW))
    with pytest.raises(JoinRefused):
        tables.waves.join(tables.wave, late, NOW)
    stored = tables.waves.get("wave-it")
    assert stored is not None and (stored.status, stored.seed) == (WaveStatus.SELECTING, "the-seed")


def test_an_outcome_is_written_once_with_its_card_and_its_message(tables: Tables) -> None:
    tables.joined("winner")
    tables.joined("other")
    selected = Settlement("winner", "wave-it", ApplicantStatus.SELECTED, card=card())
    assert tables.outcomes.settle([selected]) == [Settled.APPLIED]
    profile = tables.applicants.get("winner")
    assert profile is not None and profile.status is ApplicantStatus.SELECTED and profile.card == card()

    # A re-run with a fresh card number: the first card stands, no second message.
    rerun = replace(selected, card=card("9999999999999995"))
    assert tables.outcomes.settle([rerun]) == [Settled.ALREADY_SETTLED]
    assert tables.applicants.get("winner").card == card()  # type: ignore[union-attr]

    # Another participant offered the same number: refused, nothing written.
    clash = Settlement("other", "wave-it", ApplicantStatus.SELECTED, card=card())
    assert tables.outcomes.settle([clash]) == [Settled.CARD_NUMBER_TAKEN]
    assert tables.applicants.get("other").status is ApplicantStatus.IN_WAVE  # type: ignore[union-attr]

    messages = tables.outbox()
    assert [(m["applicant_id"], m["status"], m["kind"]) for m in messages] == [("winner", "SELECTED", "WAVE_RESULT")]
    assert messages[0]["purchase_deadline"] == card().purchase_deadline.isoformat()
    assert int(messages[0]["expires_at"]) > NOW.timestamp()


def test_rejected_at_close_keeps_its_reasons_and_other_waves_are_untouched(tables: Tables) -> None:
    tables.joined("excluded")
    rejected = Settlement("excluded", "wave-it", ApplicantStatus.REJECTED, ("EXCLUDED_OCCUPATION",))
    # An outcome for a wave the applicant is not in changes nothing.
    assert tables.outcomes.settle([replace(rejected, wave_id="wave-other")]) == [Settled.ALREADY_SETTLED]
    assert tables.outcomes.settle([rejected]) == [Settled.APPLIED]
    profile = tables.applicants.get("excluded")
    assert profile is not None and profile.status is ApplicantStatus.REJECTED
    assert [r.value for r in profile.reasons] == ["EXCLUDED_OCCUPATION"] and profile.card is None


def test_many_outcomes_each_once(tables: Tables) -> None:
    ids = [f"p-{i:03d}" for i in range(40)]
    for applicant_id in ids:
        tables.joined(applicant_id)
    settlements = [Settlement(i, "wave-it", ApplicantStatus.NOT_SELECTED) for i in ids]
    assert tables.outcomes.settle(settlements) == [Settled.APPLIED] * 40
    assert tables.outcomes.settle(settlements) == [Settled.ALREADY_SETTLED] * 40
    assert sorted(m["applicant_id"] for m in tables.outbox()) == ids


def test_the_first_published_report_stands(tables: Tables) -> None:
    tables.waves.start_selection("wave-it", "the-seed", NOW)
    report = WaveReport(
        participants=5,
        eligible=4,
        selected=3,
        provincial_selected=3,
        national_selected=0,
        provinces={"32": ProvinceResult(joined=5, eligible=4, selected=3)},
        published_at=NOW,
    )
    tables.waves.publish_result("wave-it", report)
    tables.waves.publish_result("wave-it", report.model_copy(update={"selected": 99}))
    stored = tables.waves.get("wave-it")
    assert stored is not None and stored.status is WaveStatus.SELECTED and stored.report == report


def test_lists_are_looked_up_for_many_hashes(aws: Resources, clients: dict[str, Any]) -> None:
    lists = DynamoDBExclusionRepository(clients["dynamodb"], physical(aws, "DataExclusionsTable"))
    lists.add(ExclusionSource.ASN, ["k1:a", "k1:b"], NOW)
    lists.add(ExclusionSource.PRIORITY, ["k1:b"], NOW)
    found = lists.sources_for_many([f"k1:{c}" for c in "abcdefghij"])
    assert found == {"k1:a": frozenset({"ASN"}), "k1:b": frozenset({"ASN", "PRIORITY"})}


def test_the_bucket_writes_a_snapshot_once(aws: Resources) -> None:
    store = S3ObjectStore(
        boto3.client("s3", region_name=REGION), str(aws.find("DataSelectionBucket", "AWS::S3::Bucket").ref)
    )
    assert store.get("selection/w/export/00.csv") is None
    assert store.put_if_absent("selection/w/export/00.csv", b"first", "text/csv")
    assert not store.put_if_absent("selection/w/export/00.csv", b"second", "text/csv")
    assert store.get("selection/w/export/00.csv") == b"first"
    store.put("draw/w/00/0000.json", json.dumps({"participants": []}).encode(), "application/json")
    assert json.loads(store.get("draw/w/00/0000.json") or b"") == {"participants": []}


def test_a_wave_has_one_selection_execution(aws: Resources, clients: dict[str, Any]) -> None:
    arn = str(aws.find("SelectionWorkflowStateMachine", "AWS::StepFunctions::StateMachine").ref)
    starter = SelectionWorkflowStarter(clients["stepfunctions"], arn)
    first = starter.start("wave-abc")
    assert starter.start("wave-abc") == first
    executions = clients["stepfunctions"].list_executions(stateMachineArn=arn)["executions"]
    assert [e["name"] for e in executions] == ["wave-abc"]
    assert json.loads(clients["stepfunctions"].describe_execution(executionArn=first)["input"]) == {
        "wave_id": "wave-abc"
    }
