"""Registration use cases against fakes: profile creation, the assessment, and the two
workflow steps with every rule that ends in VERIFIED or REJECTED."""

from __future__ import annotations

from datetime import date
from itertools import count

import pytest

from prakerja.personal_data import HashingKeyring
from prakerja.program import RegistrationRules
from prakerja.registration.assessment import load_assessment
from prakerja.registration.eligibility import RegistryVerdict
from prakerja.registration.models import (
    BLACKLIST,
    PREVIOUS_RECIPIENTS,
    ApplicantStatus,
    AssessmentSubmission,
    ExclusionSource,
    RegistrationRequest,
    RejectionReason,
)
from prakerja.registration.ports import CivilRegistryUnavailable, NikAlreadyRegistered, ProfileExists
from prakerja.registration.service import (
    EligibilityScreening,
    IdentityVerification,
    PersonalDataVault,
    ProfileNotFound,
    RegistrationService,
)
from tests.factories import build_kk, build_nik, valid_registration
from tests.fakes import FakeApplicants, FakeCipher, FakeExclusions, FakeRegistry, FakeWorkflow, FixedClock

KEYRING = HashingKeyring.single(b"unit-test-hashing-key-0123456789")


class World:
    """The services wired to fakes, plus helpers to register and verify someone."""

    def __init__(self, *, exclude_other_assistance: bool = False) -> None:
        self.applicants = FakeApplicants()
        self.exclusions = FakeExclusions()
        self.registry = FakeRegistry()
        self.workflow = FakeWorkflow()
        self.clock = FixedClock()
        self._vault = PersonalDataVault(FakeCipher())
        self._ids = count(1)
        self.use_keyring(KEYRING)
        vault = self._vault
        self.verification = IdentityVerification(self.applicants, vault, self.clock, registry=self.registry)
        self.screening = EligibilityScreening(
            self.applicants,
            vault,
            self.clock,
            exclusions=self.exclusions,
            rules=RegistrationRules(kk_limit=2, exclude_other_assistance=exclude_other_assistance),
        )
        self._serials = count(1)

    def use_keyring(self, keyring: HashingKeyring) -> None:
        """The applicant API after a cold start with this keyring in the secret."""
        self.registration = RegistrationService(
            self.applicants,
            self._vault,
            keyring,
            self.workflow,
            self.clock,
            new_id=lambda: f"applicant-{next(self._ids)}",
        )

    def body(self, *, in_registry: bool = True, **overrides: object) -> dict[str, object]:
        serial = next(self._serials)
        body = valid_registration(**overrides)
        if "nik" not in overrides:
            dob = date.fromisoformat(str(body["date_of_birth"]))
            body["nik"] = build_nik(dob=dob, gender=str(body["gender"]), serial=serial)
        if in_registry:
            self.registry.add(str(body["nik"]), str(body["full_name"]), date.fromisoformat(str(body["date_of_birth"])))
        return body

    @staticmethod
    def registry_birth(body: dict[str, object]) -> date:
        return date.fromisoformat(str(body["date_of_birth"]))

    def register(self, account: str, body: dict[str, object]) -> str:
        record = self.registration.register(account, RegistrationRequest.model_validate(body))
        return record.applicant_id

    def run_workflow(self, applicant_id: str) -> tuple[ApplicantStatus, tuple[RejectionReason, ...]]:
        self.verification.verify_identity(applicant_id)
        record = self.screening.screen_eligibility(applicant_id)
        return record.status, record.reasons


def test_registration_stores_no_personal_data_in_clear_and_starts_the_workflow() -> None:
    world = World()
    body = world.body()
    applicant_id = world.register("account-1", body)

    record = world.applicants.profiles[applicant_id]
    assert record.status is ApplicantStatus.VERIFYING
    assert world.workflow.started == [applicant_id]
    stored = repr(record)
    for secret in (body["nik"], body["kk_number"], body["full_name"], "81234567890"):
        assert str(secret) not in stored
    assert record.nik_masked == f"{str(body['nik'])[:2]}{'*' * 10}{str(body['nik'])[-4:]}"
    assert record.nik_hash == KEYRING.digest("nik", str(body["nik"]))


def test_one_profile_per_account_and_per_nik() -> None:
    world = World()
    body = world.body()
    world.register("account-1", body)
    with pytest.raises(ProfileExists):
        world.register("account-1", world.body())
    with pytest.raises(NikAlreadyRegistered):
        world.register("account-2", body)


def test_a_lost_workflow_start_is_started_again_when_the_client_retries() -> None:
    world = World()
    body = world.body()
    failing = world.workflow.start

    def unreachable(applicant_id: str, attempt: int = 1) -> None:
        raise ConnectionError("Step Functions unreachable")

    world.workflow.start = unreachable  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        world.register("account-1", body)
    assert world.workflow.started == []

    world.workflow.start = failing  # type: ignore[method-assign]
    with pytest.raises(ProfileExists):
        world.register("account-1", body)
    assert world.workflow.started == [world.applicants.by_account["account-1"]]


def test_profile_shows_own_data_and_is_missing_for_an_account_without_one() -> None:
    world = World()
    body = world.body(full_name="Siti Aminah", gender="F")
    world.register("account-1", body)
    profile = world.registration.profile("account-1")
    assert profile.personal.full_name == "Siti Aminah"
    assert profile.personal.nik == body["nik"]
    with pytest.raises(ProfileNotFound):
        world.registration.profile("account-2")


def test_a_matching_adult_with_no_listing_is_verified() -> None:
    world = World()
    applicant_id = world.register("a", world.body())
    assert world.run_workflow(applicant_id) == (ApplicantStatus.VERIFIED, ())


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ({"in_registry": False}, RejectionReason.NIK_NOT_FOUND),
        ({"registry_name": "Someone Else"}, RejectionReason.IDENTITY_MISMATCH),
        ({"date_of_birth": "2010-01-01"}, RejectionReason.UNDERAGE),
        ({"date_of_birth": "1950-01-01"}, RejectionReason.OVERAGE),
        ({"employment_status": "STUDENT"}, RejectionReason.IN_FORMAL_EDUCATION),
        ({"listed": ExclusionSource.FORMAL_EDUCATION}, RejectionReason.IN_FORMAL_EDUCATION),
        ({"listed": ExclusionSource.ASN}, RejectionReason.EXCLUDED_OCCUPATION),
        ({"listed": ExclusionSource.DPR_DPRD}, RejectionReason.EXCLUDED_OCCUPATION),
        ({"listed": PREVIOUS_RECIPIENTS}, RejectionReason.PREVIOUS_RECIPIENT),
        ({"listed": BLACKLIST}, RejectionReason.BLACKLISTED),
    ],
)
def test_each_rule_rejects_with_its_reason(setup: dict[str, object], expected: RejectionReason) -> None:
    world = World()
    overrides = {k: v for k, v in setup.items() if k in {"date_of_birth", "employment_status"}}
    body = world.body(in_registry=bool(setup.get("in_registry", True)), **overrides)
    if "registry_name" in setup:
        world.registry.add(
            str(body["nik"]), str(setup["registry_name"]), date.fromisoformat(str(body["date_of_birth"]))
        )
    if "listed" in setup:
        world.exclusions.add(str(setup["listed"]), [KEYRING.digest("nik", str(body["nik"]))], world.clock.now())
    applicant_id = world.register("a", body)
    status, reasons = world.run_workflow(applicant_id)
    assert status is ApplicantStatus.REJECTED
    assert reasons == (expected,)


def test_other_assistance_counts_only_where_the_program_rule_applies() -> None:
    for rule_on, expected in ((False, ApplicantStatus.VERIFIED), (True, ApplicantStatus.REJECTED)):
        world = World(exclude_other_assistance=rule_on)
        body = world.body()
        world.exclusions.add(
            ExclusionSource.OTHER_ASSISTANCE, [KEYRING.digest("nik", str(body["nik"]))], world.clock.now()
        )
        status, _ = world.run_workflow(world.register("a", body))
        assert status is expected


def test_every_applicable_reason_is_reported_together() -> None:
    world = World()
    body = world.body(date_of_birth="2012-03-04", employment_status="STUDENT", in_registry=False)
    world.exclusions.add(ExclusionSource.POLRI, [KEYRING.digest("nik", str(body["nik"]))], world.clock.now())
    status, reasons = world.run_workflow(world.register("a", body))
    assert status is ApplicantStatus.REJECTED
    assert set(reasons) == {
        RejectionReason.NIK_NOT_FOUND,
        RejectionReason.UNDERAGE,
        RejectionReason.IN_FORMAL_EDUCATION,
        RejectionReason.EXCLUDED_OCCUPATION,
    }


def test_third_person_on_one_family_card_is_rejected_with_kk_limit_reached() -> None:
    world = World()
    kk = build_kk(serial=77)
    outcomes = [world.run_workflow(world.register(f"acc-{i}", world.body(kk_number=kk))) for i in range(3)]
    assert [status for status, _ in outcomes] == [
        ApplicantStatus.VERIFIED,
        ApplicantStatus.VERIFIED,
        ApplicantStatus.REJECTED,
    ]
    assert outcomes[2][1] == (RejectionReason.KK_LIMIT_REACHED,)


def test_a_rejected_family_member_takes_no_place_but_a_full_card_is_reported() -> None:
    world = World()
    kk = build_kk(serial=5)
    rejected = world.register("minor", world.body(kk_number=kk, date_of_birth="2012-01-01"))
    assert world.run_workflow(rejected) == (ApplicantStatus.REJECTED, (RejectionReason.UNDERAGE,))
    for i in range(2):
        assert world.run_workflow(world.register(f"adult-{i}", world.body(kk_number=kk)))[0] is ApplicantStatus.VERIFIED
    late_minor = world.register("minor-2", world.body(kk_number=kk, date_of_birth="2011-01-01"))
    assert world.run_workflow(late_minor) == (
        ApplicantStatus.REJECTED,
        (RejectionReason.UNDERAGE, RejectionReason.KK_LIMIT_REACHED),
    )


def test_workflow_steps_are_idempotent_under_retries() -> None:
    world = World()
    applicant_id = world.register("a", world.body())
    first = world.run_workflow(applicant_id)
    calls = world.registry.calls
    again = world.run_workflow(applicant_id)
    assert again == first
    assert world.registry.calls == calls  # a decided applicant is not checked again
    assert world.applicants.kk_members[world.applicants.profiles[applicant_id].kk_hash] == {applicant_id}


def test_registry_outage_propagates_for_the_workflow_to_retry() -> None:
    world = World()
    applicant_id = world.register("a", world.body())
    world.registry.outages = 1
    with pytest.raises(CivilRegistryUnavailable):
        world.verification.verify_identity(applicant_id)
    assert world.verification.verify_identity(applicant_id) is RegistryVerdict.MATCH


def test_assessment_can_be_failed_and_retaken() -> None:
    world = World()
    world.register("a", world.body())
    key = load_assessment().answer_key()
    assessment = load_assessment()
    wrong = [
        {
            "question_id": q.question_id,
            "option_id": next(o.option_id for o in q.options if o.option_id != a["option_id"]),
        }
        for q, a in zip(assessment.questions, key, strict=True)
    ]
    failed = world.registration.submit_assessment("a", AssessmentSubmission.model_validate({"answers": wrong}))
    assert (failed.score, failed.passed) == (0, False)
    passed = world.registration.submit_assessment("a", AssessmentSubmission.model_validate({"answers": key}))
    assert (passed.score, passed.passed) == (100, True)
    stored = world.registration.profile("a").record.assessment
    assert stored is not None and stored.passed and stored.attempts == 2


def test_assessment_needs_a_profile() -> None:
    world = World()
    with pytest.raises(ProfileNotFound):
        world.registration.submit_assessment(
            "nobody", AssessmentSubmission.model_validate({"answers": load_assessment().answer_key()})
        )
