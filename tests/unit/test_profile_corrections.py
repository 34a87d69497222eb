"""Corrections and re-verification (API.md: PUT /v1/applicants/me; ops' REVERIFY): the same
profile checked again from the start, never a second profile, no family-card place left behind,
every reason decided anew; refused while in a wave or once selected, and while a run is going."""

from __future__ import annotations

from dataclasses import replace

import pytest

from prakerja.registration.models import ApplicantStatus, RegistrationRequest, RejectionReason
from prakerja.registration.ports import ProfileChanged, ProfileLocked, VerificationInProgress
from prakerja.registration.service import NikCannotChange, Reverification
from tests.factories import build_kk
from tests.unit.test_registration_service import World


def correct(world: World, account: str, body: dict[str, object]) -> ApplicantStatus:
    return world.registration.correct(account, RegistrationRequest.model_validate(body)).status


def test_a_mistyped_name_rejected_is_corrected_and_then_verified_on_the_same_profile() -> None:
    world = World()
    body = world.body()
    typo = {**body, "full_name": "Budy Santosa"}
    applicant_id = world.register("account-1", typo)
    assert world.run_workflow(applicant_id) == (ApplicantStatus.REJECTED, (RejectionReason.IDENTITY_MISMATCH,))

    assert correct(world, "account-1", body) is ApplicantStatus.VERIFYING
    record = world.applicants.profiles[applicant_id]
    assert record.verification_attempt == 2 and record.reasons == () and record.registry is None
    assert world.workflow.started == [applicant_id, f"{applicant_id}-r2"]  # a second run, its own name
    assert world.run_workflow(applicant_id) == (ApplicantStatus.VERIFIED, ())
    assert list(world.applicants.profiles) == [applicant_id]  # never a second profile
    kinds = [(e.kind, e.details) for e in world.applicants.history(applicant_id)]
    assert kinds == [
        ("REGISTERED", {}),
        ("IDENTITY_CHECKED", {"verdict": "MISMATCH"}),
        ("DECIDED", {"status": "REJECTED", "reasons": ["IDENTITY_MISMATCH"]}),
        ("VERIFICATION_RESTARTED", {"cause": "CORRECTED", "attempt": 2}),
        ("IDENTITY_CHECKED", {"verdict": "MATCH"}),
        ("DECIDED", {"status": "VERIFIED", "reasons": []}),
    ]


def test_the_nik_never_changes() -> None:
    world = World()
    body = world.body()
    world.register("account-1", body)
    other = world.body()
    with pytest.raises(NikCannotChange):
        correct(world, "account-1", {**body, "nik": other["nik"], "date_of_birth": other["date_of_birth"]})


def test_a_corrected_family_card_gives_the_old_card_its_place_back() -> None:
    world = World()
    old_kk, new_kk = build_kk(serial=1), build_kk(serial=2)
    moving = world.body(kk_number=old_kk)
    mover = world.register("mover", moving)
    assert world.run_workflow(mover)[0] is ApplicantStatus.VERIFIED
    sibling = world.register("sibling", world.body(kk_number=old_kk))
    assert world.run_workflow(sibling)[0] is ApplicantStatus.VERIFIED

    correct(world, "mover", {**moving, "kk_number": new_kk})
    assert world.run_workflow(mover) == (ApplicantStatus.VERIFIED, ())
    # The old card has a place again: a third member of it is verified.
    third = world.register("third", world.body(kk_number=old_kk))
    assert world.run_workflow(third) == (ApplicantStatus.VERIFIED, ())
    holding = {applicant for members in world.applicants.kk_members.values() for applicant in members}
    assert sorted(holding) == sorted([mover, sibling, third])


def test_a_re_run_ends_with_every_reason_that_applies_then() -> None:
    world = World()
    body = world.body()
    applicant_id = world.register("account-1", body)
    assert world.run_workflow(applicant_id)[0] is ApplicantStatus.VERIFIED
    correct(world, "account-1", {**body, "employment_status": "STUDENT"})
    status, reasons = world.run_workflow(applicant_id)
    assert status is ApplicantStatus.REJECTED and RejectionReason.IN_FORMAL_EDUCATION in reasons


@pytest.mark.parametrize("status", [ApplicantStatus.IN_WAVE, ApplicantStatus.SELECTED, ApplicantStatus.REVOKED])
def test_a_profile_in_a_wave_or_selected_is_locked(status: ApplicantStatus) -> None:
    world = World()
    body = world.body()
    applicant_id = world.register("account-1", body)
    world.run_workflow(applicant_id)
    world.applicants.profiles[applicant_id] = replace(world.applicants.profiles[applicant_id], status=status)
    with pytest.raises(ProfileLocked):
        correct(world, "account-1", body)
    with pytest.raises(ProfileLocked):
        Reverification(world.applicants, world.workflow, world.clock).reverify(applicant_id)
    assert world.workflow.started == [applicant_id]


def test_a_run_still_going_is_waited_for_and_one_that_failed_is_run_again() -> None:
    world = World()
    body = world.body()
    applicant_id = world.register("account-1", body)
    world.workflow.running.add(applicant_id)
    reverification = Reverification(world.applicants, world.workflow, world.clock)
    with pytest.raises(VerificationInProgress):
        reverification.reverify(applicant_id)

    world.workflow.running.clear()  # the registry was down past every retry: the run failed
    assert reverification.reverify(applicant_id).status is ApplicantStatus.VERIFYING
    assert world.workflow.started == [applicant_id, f"{applicant_id}-r2"]
    assert world.applicants.history(applicant_id)[-1].details == {"cause": "RETRY", "attempt": 2}
    assert world.run_workflow(applicant_id) == (ApplicantStatus.VERIFIED, ())


def test_ops_reverify_checks_the_profile_as_it_stands_again() -> None:
    world = World()
    body = world.body(in_registry=False)
    applicant_id = world.register("account-1", body)
    assert world.run_workflow(applicant_id) == (ApplicantStatus.REJECTED, (RejectionReason.NIK_NOT_FOUND,))
    world.registry.add(str(body["nik"]), str(body["full_name"]), world.registry_birth(body))
    Reverification(world.applicants, world.workflow, world.clock).reverify(applicant_id)
    assert world.run_workflow(applicant_id) == (ApplicantStatus.VERIFIED, ())
    assert world.applicants.history(applicant_id)[3].details == {"cause": "REVERIFY", "attempt": 2}


def test_two_restarts_from_the_same_state_start_one_run() -> None:
    world = World()
    body = world.body()
    applicant_id = world.register("account-1", body)
    world.run_workflow(applicant_id)
    seen = world.applicants.profiles[applicant_id]
    correct(world, "account-1", body)
    with pytest.raises(ProfileChanged):
        world.applicants.restart_verification(seen, seen, "CORRECTED")
