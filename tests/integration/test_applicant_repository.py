"""DynamoDBApplicantRepository on moto: the guarantees registration relies on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from localcloud.provision import Resources
from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository
from prakerja.registration.eligibility import RegistryVerdict
from prakerja.registration.models import (
    ApplicantStatus,
    EducationLevel,
    EmploymentStatus,
    Gender,
    RejectionReason,
)
from prakerja.registration.ports import KkLimitReached, NikAlreadyRegistered, ProfileChanged, ProfileExists
from prakerja.registration.records import ApplicantRecord, AssessmentRecord
from tests.integration.conftest import physical

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def applicant(
    applicant_id: str,
    *,
    account: str | None = None,
    nik_hash: str | None = None,
    kk: str = "kk-1",
    other_nik_hashes: tuple[str, ...] = (),
    other_kk_hashes: tuple[str, ...] = (),
) -> ApplicantRecord:
    return ApplicantRecord(
        applicant_id=applicant_id,
        account_id=account or f"account-{applicant_id}",
        nik_hash=nik_hash or f"k1:nik-{applicant_id}",
        kk_hash=f"k1:{kk}",
        other_nik_hashes=other_nik_hashes,
        other_kk_hashes=other_kk_hashes,
        nik_masked="32**********0001",
        personal_data="ciphertext",
        gender=Gender.F,
        province_code="32",
        regency_code="3273",
        education_level=EducationLevel.SMA,
        employment_status=EmploymentStatus.UNEMPLOYED,
        status=ApplicantStatus.VERIFYING,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.fixture
def repo(aws: Resources, clients: dict[str, Any]) -> DynamoDBApplicantRepository:
    return DynamoDBApplicantRepository(clients["dynamodb"], physical(aws, "DataApplicantsTable"))


def test_profile_round_trips(repo: DynamoDBApplicantRepository) -> None:
    record = applicant("a1")
    repo.create(record)
    assert repo.get("a1") == record
    assert repo.find_by_account("account-a1") == record
    assert repo.find_by_account("someone-else") is None
    assert repo.get("missing") is None


def test_an_accounts_guard_is_read_once_and_its_profile_every_time(
    repo: DynamoDBApplicantRepository, aws: Resources, clients: dict[str, Any]
) -> None:
    repo.create(applicant("a1"))
    assert repo.find_by_account("account-a1") is not None
    table = physical(aws, "DataApplicantsTable")
    # Guards are never deleted; removing this one shows the repository no longer needs it.
    clients["dynamodb"].delete_item(TableName=table, Key={"pk": {"S": "ACCOUNT#account-a1"}, "sk": {"S": "GUARD"}})
    repo.record_registry_verdict("a1", RegistryVerdict.MATCH, NOW)
    repo.decide("a1", ApplicantStatus.VERIFIED, [], NOW)
    found = repo.find_by_account("account-a1")
    assert found is not None and found.status is ApplicantStatus.VERIFIED
    another_function = DynamoDBApplicantRepository(clients["dynamodb"], table)
    assert another_function.find_by_account("account-a1") is None
    assert repo.find_by_account("someone-else") is None


def test_second_profile_for_an_account_or_a_nik_is_refused_and_writes_nothing(
    repo: DynamoDBApplicantRepository, aws: Resources, clients: dict[str, Any]
) -> None:
    repo.create(applicant("a1", account="acc", nik_hash="k1:nik"))
    with pytest.raises(ProfileExists):
        repo.create(applicant("a2", account="acc"))
    with pytest.raises(NikAlreadyRegistered):
        repo.create(applicant("a3", nik_hash="k1:nik"))
    assert repo.get("a2") is None and repo.get("a3") is None
    items = clients["dynamodb"].scan(TableName=physical(aws, "DataApplicantsTable"))["Items"]
    # The first profile, its two guards and its history's first event; nothing of the refused ones.
    assert sorted(item["sk"]["S"].split("#")[0] for item in items) == ["EVENT", "GUARD", "GUARD", "PROFILE"]


def test_decision_is_taken_once(repo: DynamoDBApplicantRepository) -> None:
    repo.create(applicant("a1"))
    repo.record_registry_verdict("a1", RegistryVerdict.MATCH, NOW)
    rejected = repo.decide("a1", ApplicantStatus.REJECTED, [RejectionReason.UNDERAGE], NOW)
    assert rejected.status is ApplicantStatus.REJECTED and rejected.reasons == (RejectionReason.UNDERAGE,)
    again = repo.decide("a1", ApplicantStatus.VERIFIED, [], NOW)
    assert again.status is ApplicantStatus.REJECTED and again.registry is RegistryVerdict.MATCH


def test_family_card_places_are_limited_and_a_retry_keeps_its_place(repo: DynamoDBApplicantRepository) -> None:
    for applicant_id in ("a1", "a2", "a3"):
        repo.create(applicant(applicant_id, kk="shared"))
    assert (
        repo.decide("a1", ApplicantStatus.VERIFIED, [], NOW, kk_hashes=("k1:shared",), kk_limit=2).status
        is ApplicantStatus.VERIFIED
    )
    assert (
        repo.decide("a2", ApplicantStatus.VERIFIED, [], NOW, kk_hashes=("k1:shared",), kk_limit=2).status
        is ApplicantStatus.VERIFIED
    )
    # a retried step of an applicant who already holds a place is not refused
    assert (
        repo.decide("a2", ApplicantStatus.VERIFIED, [], NOW, kk_hashes=("k1:shared",), kk_limit=2).status
        is ApplicantStatus.VERIFIED
    )
    assert not repo.kk_has_room(("k1:shared",), "a3", 2)
    assert repo.kk_has_room(("k1:shared",), "a1", 2)
    with pytest.raises(KkLimitReached):
        repo.decide("a3", ApplicantStatus.VERIFIED, [], NOW, kk_hashes=("k1:shared",), kk_limit=2)
    assert repo.get("a3").status is ApplicantStatus.VERIFYING  # type: ignore[union-attr]


def test_assessment_is_recorded(repo: DynamoDBApplicantRepository) -> None:
    repo.create(applicant("a1"))
    repo.record_assessment("a1", AssessmentRecord(score=70, passed=True, attempts=2, taken_at=NOW))
    stored = repo.get("a1")
    assert stored is not None and stored.assessment == AssessmentRecord(score=70, passed=True, attempts=2, taken_at=NOW)


def test_a_restart_gives_the_card_place_back_records_it_and_refuses_a_stale_profile(
    repo: DynamoDBApplicantRepository,
) -> None:
    """PUT /v1/applicants/me and ops' REVERIFY: the profile back to VERIFYING at its next attempt,
    with the corrected fields, its family-card place given back in the same write, the restart in
    its history; a second restart from the same (now stale) profile writes nothing."""
    for applicant_id in ("a", "b"):
        repo.create(applicant(applicant_id, kk="shared"))
        repo.decide(applicant_id, ApplicantStatus.VERIFIED, [], NOW, kk_hashes=("k1:shared",), kk_limit=2)
    assert not repo.kk_has_room(("k1:shared",), "c", 2)

    current = repo.get("a")
    assert current is not None and current.verification_attempt == 1
    later = NOW.replace(hour=4)
    restarted = current.with_changes(
        status=ApplicantStatus.VERIFYING,
        reasons=(),
        registry=None,
        kk_hash="k1:new-card",
        regency_code="3201",
        verification_attempt=2,
        updated_at=later,
    )
    repo.restart_verification(current, restarted, "CORRECTED")

    stored = repo.get("a")
    assert stored is not None
    assert (stored.status, stored.verification_attempt, stored.kk_hash, stored.regency_code) == (
        ApplicantStatus.VERIFYING,
        2,
        "k1:new-card",
        "3201",
    )
    assert stored.nik_hash == current.nik_hash and stored.account_id == current.account_id
    assert repo.kk_has_room(("k1:shared",), "c", 2)  # the old card has a place again
    assert [(e.kind, e.details) for e in repo.history("a")][-1] == (
        "VERIFICATION_RESTARTED",
        {"cause": "CORRECTED", "attempt": 2},
    )
    with pytest.raises(ProfileChanged):
        repo.restart_verification(current, restarted, "CORRECTED")
    assert repo.get("a") == stored
