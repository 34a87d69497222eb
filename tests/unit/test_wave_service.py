"""Wave joining rules against fakes, including the states e2e cannot reach before selection."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from prakerja.errors import Conflict
from prakerja.registration.models import ApplicantStatus
from prakerja.registration.records import AssessmentRecord
from prakerja.waves.models import WaveRequest, participant_shard, seed_matches
from prakerja.waves.service import WaveService
from tests.fakes import FakeApplicants, FakeWaves, FixedClock
from tests.unit.test_registration_service import World


def setup(
    status: ApplicantStatus = ApplicantStatus.VERIFIED, passed: bool = True
) -> tuple[WaveService, FakeWaves, str, FakeApplicants]:
    world = World()
    applicant_id = world.register("acc", world.body())
    record = world.applicants.profiles[applicant_id]
    assessment = AssessmentRecord(score=80 if passed else 10, passed=passed, attempts=1, taken_at=world.clock.now())
    world.applicants.profiles[applicant_id] = replace(record, status=status, assessment=assessment)
    waves = FakeWaves(world.applicants)
    service = WaveService(waves, world.clock, applicants=world.applicants, new_id=lambda: "wave-1")
    clock: FixedClock = world.clock
    service.create(
        WaveRequest.model_validate(
            {
                "name": "Gelombang 1",
                "opens_at": (clock.now() - timedelta(hours=1)).isoformat(),
                "closes_at": (clock.now() + timedelta(days=1)).isoformat(),
                "quota_total": 10,
                "quotas": {"32": 5},
                "scheme": "2023",
                "seed_commitment": "0" * 64,
            }
        )
    )
    return service, waves, applicant_id, world.applicants


@pytest.mark.parametrize(
    ("status", "passed", "code"),
    [
        (ApplicantStatus.VERIFYING, True, "NOT_VERIFIED"),
        (ApplicantStatus.REJECTED, True, "NOT_VERIFIED"),
        (ApplicantStatus.SELECTED, True, "ALREADY_RECIPIENT"),
        (ApplicantStatus.REVOKED, True, "ALREADY_RECIPIENT"),
        (ApplicantStatus.IN_WAVE, True, "ALREADY_IN_WAVE"),
        (ApplicantStatus.VERIFIED, False, "ASSESSMENT_REQUIRED"),
    ],
)
def test_join_refusals(status: ApplicantStatus, passed: bool, code: str) -> None:
    service, waves, _, _ = setup(status, passed)
    with pytest.raises(Conflict) as refused:
        service.join("acc", "wave-1")
    assert refused.value.code == code
    assert waves.joined == {}


def test_not_selected_applicants_may_join_again() -> None:
    service, waves, applicant_id, applicants = setup(ApplicantStatus.NOT_SELECTED)
    service.join("acc", "wave-1")
    assert applicants.profiles[applicant_id].status is ApplicantStatus.IN_WAVE
    assert waves.joined_by_province("wave-1") == {"32": 1}


def test_a_lost_race_answers_with_the_state_that_holds_now() -> None:
    service, waves, _, _ = setup()
    # the atomic write is refused although nothing visible changed: no misleading code
    waves.refuse_next_join = True
    with pytest.raises(Conflict) as refused:
        service.join("acc", "wave-1")
    assert refused.value.code == "JOIN_CONFLICT"


def test_seed_commitment_and_shards() -> None:
    import hashlib

    assert seed_matches("rahasia-gelombang-1", hashlib.sha256(b"rahasia-gelombang-1").hexdigest())
    assert not seed_matches("another seed", hashlib.sha256(b"rahasia-gelombang-1").hexdigest())
    shards = {participant_shard(f"applicant-{i}") for i in range(2000)}
    assert shards == set(range(64))
    assert participant_shard("applicant-7") == participant_shard("applicant-7")
