"""Ops actions and four eyes (prakerja.cases) with fakes: the state machine, who may approve,
what each action changes, and what happens when the applicant changed meanwhile. The DynamoDB
adapter on moto: tests/integration/test_cases.py; over HTTP: tests/e2e/test_actions.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from pydantic import ValidationError

from prakerja.cases.models import (
    Action,
    ActionKind,
    ActionRequest,
    ActionStatus,
    ApprovalRequest,
    RejectionRequest,
    needs_second_person,
)
from prakerja.cases.service import ActionService
from prakerja.errors import DomainError
from prakerja.ledger.postings import TREASURY, Account, PostingKind
from prakerja.registration.models import BLACKLIST, ApplicantStatus, EducationLevel, EmploymentStatus, Gender
from prakerja.registration.records import ApplicantRecord
from prakerja.selection.cards import CardRecord
from tests.fakes import FakeApplicants, FakeCases, FakeExclusions, FakeReverifier, FixedClock

A, B = "ops-a", "ops-b"  # two ops users' account ids
BALANCE = 3_500_000


class World:
    def __init__(self) -> None:
        self.clock = FixedClock()
        self.applicants = FakeApplicants()
        self.exclusions = FakeExclusions()
        self.cases = FakeCases(self.applicants, self.exclusions)
        self.reverifier = FakeReverifier()
        ids = iter(f"act-{n:03d}" for n in range(1000))
        self.service = ActionService(self.cases, self.cases, lambda: self.reverifier, self.clock, lambda: next(ids))

    def applicant(self, number: int = 1, *, card: bool = True) -> ApplicantRecord:
        now = self.clock.now()
        record = ApplicantRecord(
            applicant_id=f"applicant-{number}",
            account_id=f"account-{number}",
            nik_hash=f"k1:nik-{number}",
            other_nik_hashes=(f"k2:nik-{number}",),
            kk_hash=f"k1:kk-{number}",
            nik_masked="32**********0001",
            personal_data="ciphertext",
            gender=Gender.F,
            province_code="32",
            regency_code="3201",
            education_level=EducationLevel.SMA,
            employment_status=EmploymentStatus.UNEMPLOYED,
            status=ApplicantStatus.SELECTED if card else ApplicantStatus.VERIFIED,
            created_at=now,
            updated_at=now,
            wave_id="wave-1" if card else None,
            card=CardRecord(f"5123-{number}", "2023", BALANCE, now + timedelta(days=15), "wave-1", now)
            if card
            else None,
        )
        self.applicants.create(record)
        return record

    def ask(self, applicant_id: str, kind: ActionKind, by: str = A, request_id: str = "req-1") -> Action:
        return self.service.request(applicant_id, ActionRequest(action=kind, reason="fraud report #12"), by, request_id)

    def approve(self, action_id: str, by: str = B, request_id: str = "req-2") -> Action:
        return self.service.approve(action_id, by, "checked the report", request_id)

    def audit(self) -> list[tuple[str, str, str, int]]:
        return [(e.action, e.actor, e.target, e.seq) for e in self.cases.audit]


def refused(code: str, status: int) -> pytest.RaisesExc[DomainError]:
    return pytest.raises(DomainError, check=lambda e: (e.code, e.status) == (code, status))


@pytest.fixture
def world() -> World:
    return World()


def test_which_actions_need_a_second_person_is_programme_data() -> None:
    assert {k for k in ActionKind if needs_second_person(k)} == {ActionKind.REVOKE_CARD, ActionKind.LIFT_BLACKLIST}


def test_a_revocation_waits_for_a_second_person_who_is_not_its_requester(world: World) -> None:
    applicant = world.applicant()
    action = world.ask(applicant.applicant_id, ActionKind.REVOKE_CARD)
    assert action.status is ActionStatus.PENDING_APPROVAL
    assert world.applicants.profiles[applicant.applicant_id].status is ApplicantStatus.SELECTED  # nothing yet
    assert world.audit() == [("REVOKE_CARD_REQUESTED", A, applicant.applicant_id, 0)]

    with refused("SELF_APPROVAL", 403):
        world.approve(action.action_id, by=A)
    assert world.service.get(action.action_id).status is ActionStatus.PENDING_APPROVAL

    approved = world.approve(action.action_id, by=B)
    assert (approved.status, approved.decided_by, approved.requested_by) == (ActionStatus.EXECUTED, B, A)
    revoked = world.applicants.profiles[applicant.applicant_id]
    assert revoked.status is ApplicantStatus.REVOKED and revoked.card and revoked.card.training_balance == 0
    # The sweep's posting: the unused balance from the card to the treasury, once per card.
    (posting,) = world.cases.postings.values()
    assert (posting.posting_id, posting.kind, posting.amount) == (
        "CARD_REVOKED#5123-1",
        PostingKind.CARD_REVOKED,
        BALANCE,
    )
    assert {(line.account, line.debit, line.credit) for line in posting.lines} == {
        (TREASURY, BALANCE, 0),
        (Account.card("5123-1"), 0, BALANCE),
    }
    assert world.exclusions.sources_for(*applicant.nik_hashes) == {BLACKLIST}  # as the sweep does
    # The approval and the change it let through: two entries of one request, both B's.
    assert world.audit()[1:] == [
        ("REVOKE_CARD_APPROVED", B, action.action_id, 0),
        ("REVOKE_CARD", B, applicant.applicant_id, 1),
    ]
    assert {e.request_id for e in world.cases.audit[1:]} == {"req-2"}

    with refused("ACTION_ALREADY_DECIDED", 409):
        world.approve(action.action_id, by="ops-c")
    with refused("ACTION_ALREADY_DECIDED", 409):
        world.service.reject(action.action_id, "ops-c", "too late", "req-3")
    assert len(world.cases.postings) == 1 and len(world.cases.audit) == 3


def test_an_action_that_does_not_apply_is_refused_when_asked_for(world: World) -> None:
    no_card = world.applicant(1, card=False)
    with refused("NO_ACTIVE_CARD", 409):
        world.ask(no_card.applicant_id, ActionKind.REVOKE_CARD)
    with refused("NOT_BLACKLISTED", 409):
        world.ask(no_card.applicant_id, ActionKind.LIFT_BLACKLIST)
    with refused("PAYOUTS_NOT_HELD", 409):
        world.ask(no_card.applicant_id, ActionKind.RELEASE_PAYOUTS)
    with refused("APPLICANT_NOT_FOUND", 404):
        world.ask("nobody", ActionKind.HOLD_PAYOUTS)
    with refused("APPLICANT_NOT_FOUND", 404):
        world.ask("nobody", ActionKind.REVERIFY)
    assert world.cases.actions == {} and world.cases.audit == []


def test_a_card_the_sweep_revoked_meanwhile_lapses_the_approval(world: World) -> None:
    applicant = world.applicant()
    action = world.ask(applicant.applicant_id, ActionKind.REVOKE_CARD)
    # The nightly sweep got there first.
    swept = world.applicants.profiles[applicant.applicant_id]
    world.applicants.profiles[applicant.applicant_id] = replace(swept, status=ApplicantStatus.REVOKED)
    with refused("NO_ACTIVE_CARD", 409):
        world.approve(action.action_id)
    lapsed = world.service.get(action.action_id)
    assert (lapsed.status, lapsed.lapsed_code, lapsed.decided_by) == (ActionStatus.LAPSED, "NO_ACTIVE_CARD", B)
    assert world.cases.postings == {}  # nothing returned twice
    assert world.audit()[-1] == ("REVOKE_CARD_LAPSED", B, action.action_id, 0)
    with refused("ACTION_ALREADY_DECIDED", 409):
        world.approve(action.action_id, by="ops-c")


def test_a_purchase_between_the_read_and_the_write_returns_only_what_is_left(world: World) -> None:
    applicant = world.applicant()
    action = world.ask(applicant.applicant_id, ActionKind.REVOKE_CARD)

    def purchase() -> None:
        profile = world.applicants.profiles[applicant.applicant_id]
        assert profile.card is not None
        card = replace(profile.card, training_balance=BALANCE - 500_000, first_purchase_at=world.clock.now())
        world.applicants.profiles[applicant.applicant_id] = replace(profile, card=card)

    world.cases.before_save.append(purchase)
    assert world.approve(action.action_id).status is ActionStatus.EXECUTED
    (posting,) = world.cases.postings.values()
    assert posting.amount == BALANCE - 500_000  # read again: never the stale balance


def test_lifting_a_blacklist_takes_the_nik_off_under_every_key(world: World) -> None:
    applicant = world.applicant()
    world.exclusions.add(BLACKLIST, applicant.nik_hashes, world.clock.now())
    world.exclusions.add("ASN", applicant.nik_hashes, world.clock.now())
    action = world.ask(applicant.applicant_id, ActionKind.LIFT_BLACKLIST)
    assert action.status is ActionStatus.PENDING_APPROVAL
    assert world.exclusions.sources_for(*applicant.nik_hashes) == {BLACKLIST, "ASN"}
    world.approve(action.action_id)
    assert world.exclusions.sources_for(applicant.nik_hash) == {"ASN"}  # the agency's list stays
    assert world.exclusions.sources_for(*applicant.other_nik_hashes) == {"ASN"}
    assert world.audit()[1:] == [
        ("LIFT_BLACKLIST_APPROVED", B, action.action_id, 0),
        ("LIFT_BLACKLIST", B, applicant.applicant_id, 1),
    ]


def test_holding_and_releasing_payouts_run_at_once_and_only_when_they_apply(world: World) -> None:
    applicant = world.applicant()
    held = world.ask(applicant.applicant_id, ActionKind.HOLD_PAYOUTS)
    assert held.status is ActionStatus.EXECUTED and world.cases.holds == {applicant.applicant_id}
    with refused("PAYOUTS_ALREADY_HELD", 409):
        world.ask(applicant.applicant_id, ActionKind.HOLD_PAYOUTS, by=B)
    with refused("ACTION_ALREADY_DECIDED", 409):  # nothing to approve
        world.approve(held.action_id)
    released = world.ask(applicant.applicant_id, ActionKind.RELEASE_PAYOUTS, by=B, request_id="req-9")
    assert released.status is ActionStatus.EXECUTED and world.cases.holds == set()
    assert world.audit() == [
        ("HOLD_PAYOUTS", A, applicant.applicant_id, 0),
        ("RELEASE_PAYOUTS", B, applicant.applicant_id, 0),
    ]
    assert [a.kind for a in world.service.actions_of(applicant.applicant_id)] == [
        ActionKind.HOLD_PAYOUTS,
        ActionKind.RELEASE_PAYOUTS,
    ]


def test_a_hold_written_by_someone_else_meanwhile_answers_409(world: World) -> None:
    applicant = world.applicant()
    world.cases.before_save.append(lambda: world.cases.holds.add(applicant.applicant_id))
    with refused("PAYOUTS_ALREADY_HELD", 409):
        world.ask(applicant.applicant_id, ActionKind.HOLD_PAYOUTS)
    assert world.cases.actions == {} and world.cases.audit == []


def test_reverify_runs_the_checks_through_the_port(world: World) -> None:
    applicant = world.applicant(1, card=False)
    action = world.ask(applicant.applicant_id, ActionKind.REVERIFY)
    assert action.status is ActionStatus.EXECUTED
    assert world.reverifier.reverified == [applicant.applicant_id]
    assert world.audit() == [("REVERIFY", A, applicant.applicant_id, 0)]


def test_reverify_of_a_locked_profile_is_409_and_records_nothing(world: World) -> None:
    applicant = world.applicant()
    world.reverifier.locked.add(applicant.applicant_id)
    with refused("PROFILE_LOCKED", 409):
        world.ask(applicant.applicant_id, ActionKind.REVERIFY)
    assert world.cases.actions == {} and world.cases.audit == []


def test_a_rejected_action_never_runs(world: World) -> None:
    applicant = world.applicant()
    action = world.ask(applicant.applicant_id, ActionKind.REVOKE_CARD)
    rejected = world.service.reject(action.action_id, A, "asked for the wrong applicant", "req-3")  # withdrawn
    assert (rejected.status, rejected.decided_by) == (ActionStatus.REJECTED, A)
    with refused("ACTION_ALREADY_DECIDED", 409):
        world.approve(action.action_id)
    assert world.applicants.profiles[applicant.applicant_id].status is ApplicantStatus.SELECTED
    assert world.audit()[-1] == ("REVOKE_CARD_REJECTED", A, action.action_id, 0)


def test_the_approvals_queue_is_oldest_first_and_paginated(world: World) -> None:
    ids = []
    for number in range(1, 4):
        applicant = world.applicant(number)
        ids.append(world.ask(applicant.applicant_id, ActionKind.REVOKE_CARD).action_id)
        world.clock.advance(minutes=1)
    world.approve(ids[1])
    first, token = world.service.pending(1, None)
    second, end = world.service.pending(1, token)
    assert [a.action_id for a in first + second] == [ids[0], ids[2]] and end is None
    with refused("ACTION_NOT_FOUND", 404):
        world.service.get("act-999")


@pytest.mark.parametrize(
    "body",
    [
        {"action": "REVOKE_CARD", "reason": ""},
        {"action": "REVOKE_CARD", "reason": "   "},
        {"action": "REVOKE_CARD", "reason": "x" * 501},
        {"action": "REVOKE_CARD"},
        {"action": "DELETE_EVERYTHING", "reason": "no"},
        {"action": "REVOKE_CARD", "reason": "ok", "extra": 1},
    ],
)
def test_an_action_needs_a_known_kind_and_a_bounded_reason(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ActionRequest.model_validate(body)


def test_an_approval_reason_is_optional_and_a_rejection_reason_is_not() -> None:
    assert ApprovalRequest.model_validate({}).reason is None
    with pytest.raises(ValidationError):
        RejectionRequest.model_validate({})
