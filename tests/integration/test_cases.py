"""Ops actions on moto, with the real adapters and the synthesized tables: an approved
revocation is the card sweep's own transaction plus the action and its audit entries (a used
card's remainder back to the treasury, once, whoever comes first); the approvals queue from its
sparse index, oldest first; a lifted blacklist under every key; the payout hold item."""

from __future__ import annotations

from typing import Any

import pytest

from localcloud.provision import Resources
from prakerja.adapters import keys
from prakerja.adapters.dynamodb import from_item, to_item
from prakerja.adapters.dynamodb_audit import DynamoDBAuditLog
from prakerja.adapters.dynamodb_cases import DynamoDBCaseFacts, DynamoDBCases
from prakerja.audit.models import AuditQuery
from prakerja.cards.deadlines import ShardItem, ShardSweeper
from prakerja.cases.models import ActionKind, ActionRequest, ActionStatus
from prakerja.cases.ports import RevokeCard, Saved
from prakerja.cases.service import ActionService
from prakerja.errors import DomainError, ValidationFailed
from prakerja.ledger import postings
from prakerja.marketplace.models import PurchaseRequest
from prakerja.registration.models import BLACKLIST, ApplicantStatus
from prakerja.waves.models import participant_shard
from tests.fakes import FakeReverifier
from tests.integration.conftest import physical
from tests.integration.test_applicant_repository import applicant
from tests.integration.test_marketplace import Market, build_market, code_of

A, B = "ops-a", "ops-b"


class Desk:
    def __init__(self, market: Market, aws: Resources) -> None:
        self.market = market
        db = market.db
        self.tables = {**market.tables, "cases": physical(aws, "DataCasesTable")}
        self.tables["payouts"] = physical(aws, "DataPayoutsTable")
        self.audit = DynamoDBAuditLog(db, physical(aws, "DataAuditLogTable"))
        self.cases = DynamoDBCases(
            db, self.tables["cases"], self.audit, market.cards, self.tables["exclusions"], self.tables["payouts"]
        )
        facts = DynamoDBCaseFacts(db, market.applicants, self.tables["exclusions"], self.tables["payouts"])
        self.service = ActionService(self.cases, facts, FakeReverifier, market.clock)

    def ask(self, applicant_id: str, kind: ActionKind, by: str = A) -> str:
        request = ActionRequest(action=kind, reason="fraud report #12")
        return self.service.request(applicant_id, request, by, f"req-{kind}-{applicant_id}").action_id


@pytest.fixture
def desk(aws: Resources, clients: dict[str, Any]) -> Desk:
    return Desk(build_market(aws, clients), aws)


def test_an_approved_revocation_returns_a_used_cards_remainder_once(desk: Desk) -> None:
    market = desk.market
    wave = market.wave("w-1", closed_days_ago=3)
    market.card_holder("holder", wave)
    course = market.course(400_000)
    market.market.buy("account-holder", PurchaseRequest(training_id=course.training_id))
    before = market.report()

    action_id = desk.ask("holder", ActionKind.REVOKE_CARD)
    [waiting], _ = desk.service.pending(10, None)
    assert waiting.action_id == action_id and market.applicants.get("holder").status is ApplicantStatus.SELECTED  # type: ignore[union-attr]
    with pytest.raises(DomainError, match="second ops user"):
        desk.service.approve(action_id, A, None, "req-approve-a")
    approved = desk.service.approve(action_id, B, "confirmed", "req-approve-b")

    assert approved.status is ActionStatus.EXECUTED
    record = market.applicants.get("holder")
    assert record is not None and record.card is not None
    assert (record.status, record.card.training_balance) == (ApplicantStatus.REVOKED, 0)
    after = market.report()
    assert after.returned - before.returned == 3_500_000 - 400_000 and after.balanced
    assert BLACKLIST in market.exclusions.sources_for(*record.nik_hashes)
    assert code_of(lambda: market.market.buy("account-holder", PurchaseRequest(training_id=course.training_id))) == (
        "CARD_REVOKED"
    )
    # The request, the approval and the change: in the audit log with their actors.
    entries, _ = desk.audit.entries(AuditQuery(), 10, None)
    assert sorted((e.action, e.actor, e.target) for e in entries) == [
        ("REVOKE_CARD", B, "holder"),
        ("REVOKE_CARD_APPROVED", B, action_id),
        ("REVOKE_CARD_REQUESTED", A, "holder"),
    ]
    # Decided: off the queue, in the applicant's list, and never run again.
    assert desk.service.pending(10, None) == ([], None)
    assert [(a.action_id, a.status) for a in desk.cases.actions_of("holder")] == [(action_id, ActionStatus.EXECUTED)]
    with pytest.raises(DomainError, match="decided already"):
        desk.service.approve(action_id, "ops-c", None, "req-approve-c")
    assert market.report() == after


def test_the_sweep_first_then_the_approval_lapses_and_returns_nothing_twice(desk: Desk) -> None:
    market = desk.market
    wave = market.wave("w-1", closed_days_ago=20)
    card = market.card_holder("unused", wave)
    action_id = desk.ask("unused", ActionKind.REVOKE_CARD)
    before = market.report()
    sweeper = ShardSweeper(market.cards, market.applicants, market.clock)
    assert sweeper.sweep(ShardItem(wave_id="w-1", shard=participant_shard("unused"))).revoked == 1
    with pytest.raises(DomainError) as lapsed:
        desk.service.approve(action_id, B, None, "req-approve")
    assert lapsed.value.code == "NO_ACTIVE_CARD"
    assert desk.service.get(action_id).status is ActionStatus.LAPSED
    assert market.report().returned - before.returned == card.training_balance  # the sweep's, once


def test_a_revocation_loses_to_a_concurrent_sweep_by_its_condition(desk: Desk) -> None:
    """The approval read the card before the sweep revoked it: its transaction is refused whole
    (the profile's condition and the posting's id), the approval reads again and lapses."""
    market = desk.market
    wave = market.wave("w-1", closed_days_ago=20)
    market.card_holder("unused", wave)
    action_id = desk.ask("unused", ActionKind.REVOKE_CARD)
    stale = market.applicants.get("unused")
    assert stale is not None
    sweeper = ShardSweeper(market.cards, market.applicants, market.clock)
    sweeper.sweep(ShardItem(wave_id="w-1", shard=participant_shard("unused")))
    assert stale.card is not None
    now = market.clock.now()
    late = RevokeCard(stale, postings.card_revoked(stale.card.card_number, stale.card.training_balance, now), now)
    action = desk.service.get(action_id)
    approved = action.approve(B, market.clock.now(), None)
    assert desk.cases.save(approved, ActionStatus.PENDING_APPROVAL, [], late) is Saved.EFFECT_REFUSED
    assert desk.service.get(action_id).status is ActionStatus.PENDING_APPROVAL  # nothing written


def test_the_approvals_queue_is_a_sparse_index_oldest_first_a_page_at_a_time(desk: Desk) -> None:
    market = desk.market
    wave = market.wave("w-1", closed_days_ago=3)
    ids = []
    for number in range(3):
        market.card_holder(f"holder-{number}", wave)
        ids.append(desk.ask(f"holder-{number}", ActionKind.REVOKE_CARD))
        market.clock.advance(minutes=1)
    desk.service.reject(ids[1], B, "not this one", "req-reject")
    held = desk.ask("holder-0", ActionKind.HOLD_PAYOUTS)  # runs at once: never queued
    first, token = desk.service.pending(1, None)
    second, end = desk.service.pending(1, token)
    assert [a.action_id for a in first + second] == [ids[0], ids[2]] and end is None
    index = desk.market.db.scan(TableName=desk.tables["cases"], IndexName="ActionsPending")["Items"]
    assert len(index) == 2  # only the waiting ones: decided and immediate actions leave it
    assert [a.kind for a in desk.cases.actions_of("holder-0")] == [ActionKind.REVOKE_CARD, ActionKind.HOLD_PAYOUTS]
    assert desk.service.get(held).status is ActionStatus.EXECUTED
    assert token is not None
    with pytest.raises(ValidationFailed):
        desk.service.pending(1, "eyJwayI6ICJ4In0=")  # not a position in this queue


def test_lifting_a_blacklist_deletes_the_nik_under_every_key_and_nothing_else(desk: Desk) -> None:
    market = desk.market
    market.applicants.create(applicant("listed", other_nik_hashes=("k2:nik-listed",)))
    record = market.applicants.get("listed")
    assert record is not None
    market.exclusions.add(BLACKLIST, record.nik_hashes, market.clock.now())
    market.exclusions.add("ASN", record.nik_hashes, market.clock.now())
    action_id = desk.ask("listed", ActionKind.LIFT_BLACKLIST)
    desk.service.approve(action_id, B, None, "req-approve")
    assert market.exclusions.sources_for(record.nik_hash) == {"ASN"}
    assert market.exclusions.sources_for("k2:nik-listed") == {"ASN"}
    with pytest.raises(DomainError) as again:
        desk.ask("listed", ActionKind.LIFT_BLACKLIST)
    assert again.value.code == "NOT_BLACKLISTED"


def test_hold_and_release_write_and_delete_the_payout_hold_item(desk: Desk) -> None:
    market = desk.market
    market.applicants.create(applicant("payee"))
    desk.ask("payee", ActionKind.HOLD_PAYOUTS)
    hold = market.db.get_item(TableName=desk.tables["payouts"], Key=to_item(keys.payout_hold("payee")))["Item"]
    assert set(from_item(hold)) == {"pk", "sk", "action_id", "held_at"}  # ids and a time: nothing personal
    desk.ask("payee", ActionKind.RELEASE_PAYOUTS, by=B)
    assert "Item" not in market.db.get_item(TableName=desk.tables["payouts"], Key=to_item(keys.payout_hold("payee")))
