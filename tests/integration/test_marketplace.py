"""The marketplace, the card deadlines and the ledger on moto, with the real adapters and the
tables of the synthesized template: purchases debit the card in the transaction of their
posting, vouchers go PAID -> REDEEMED -> COMPLETED once, unused cards are revoked exactly once,
and the ledger accounts for every rupiah."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from localcloud.provision import Resources
from prakerja.adapters.dynamodb import from_item, to_item
from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository
from prakerja.adapters.dynamodb_cards import DynamoDBDueCards, encode_cursor
from prakerja.adapters.dynamodb_exclusions import DynamoDBExclusionRepository
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.adapters.dynamodb_marketplace import DynamoDBCatalog, DynamoDBPurchases, DynamoDBVouchers
from prakerja.adapters.dynamodb_outcomes import DynamoDBOutcomeWriter
from prakerja.adapters.dynamodb_waves import DynamoDBWaveRepository
from prakerja.cards.deadlines import CARDS_PER_INVOCATION, ShardItem, ShardSweeper, ShardSwept, SweepPlanner
from prakerja.errors import DomainError
from prakerja.ledger import postings
from prakerja.ledger.report import LedgerReport, books, ledger_report
from prakerja.ledger.service import LedgerService
from prakerja.marketplace.models import (
    Category,
    PurchaseRequest,
    PurchaseStatus,
    ReviewRequest,
    Training,
    TrainingFilters,
    TrainingRequest,
    TrainingType,
)
from prakerja.marketplace.ports import BuyOutcome
from prakerja.marketplace.service import CatalogService, MarketplaceService, PartnerService
from prakerja.partners import load_partners
from prakerja.registration.models import BLACKLIST, ApplicantStatus
from prakerja.selection.cards import CardRecord, new_card_number
from prakerja.selection.ports import Settlement
from prakerja.waves.models import PARTICIPANT_SHARDS, Wave, WaveReport, WaveStatus, participant_shard
from tests.fakes import FixedClock
from tests.integration.conftest import physical
from tests.integration.test_applicant_repository import applicant

LEDGER_SHARDS = 4  # a few total shards keep the report's reads cheap here; the logic is the same
BUDGET = 1_000_000_000


class NamesInClear:
    def masked_name(self, applicant_id: str) -> str:
        return f"B*** {applicant_id}"


@dataclass
class Market:
    db: Any
    clock: FixedClock
    applicants: DynamoDBApplicantRepository
    waves: DynamoDBWaveRepository
    ledger: DynamoDBLedger
    catalog: CatalogService
    purchases: DynamoDBPurchases
    market: MarketplaceService
    partners: PartnerService
    outcomes: DynamoDBOutcomeWriter
    cards: DynamoDBDueCards
    exclusions: DynamoDBExclusionRepository
    tables: dict[str, str]

    def course(self, price: int, platform: str = "PINTARIA", title: str = "Barista Profesional") -> Training:
        request = TrainingRequest(
            title=title,
            institution="LPK Kopi Nusantara",
            platform=platform,
            type=TrainingType.SELF_PACED,
            price=price,
            hours=8,
            category=Category.CULINARY,
        )
        return self.catalog.add(request)

    def wave(self, wave_id: str, closed_days_ago: int) -> Wave:
        closed = self.clock.now() - timedelta(days=closed_days_ago)
        wave = Wave(
            wave_id=wave_id,
            name=f"Gelombang {wave_id}",
            opens_at=closed - timedelta(days=7),
            closes_at=closed,
            quota_total=10,
            quotas={},
            scheme="2023",
            seed_commitment="0" * 64,
            status=WaveStatus.OPEN,
            created_at=closed - timedelta(days=8),
        )
        self.waves.create(wave)
        self.waves.start_selection(wave_id, "seed", closed)
        report = WaveReport(
            participants=0,
            eligible=0,
            selected=0,
            provincial_selected=0,
            national_selected=0,
            provinces={},
            published_at=closed,
        )
        self.waves.publish_result(wave_id, report)
        return wave

    def card_holder(
        self, applicant_id: str, wave: Wave, balance: int = 3_500_000, *, other_nik_hashes: tuple[str, ...] = ()
    ) -> CardRecord:
        """A card issued the way the selection issues it: the outcome writer, with its funding."""
        self.applicants.create(applicant(applicant_id, other_nik_hashes=other_nik_hashes))
        self.applicants.decide(applicant_id, ApplicantStatus.VERIFIED, [], self.clock.now())
        self.db.update_item(
            TableName=self.tables["applicants"],
            Key=to_item({"pk": f"APPLICANT#{applicant_id}", "sk": "PROFILE"}),
            UpdateExpression="SET #s = :in_wave, wave_id = :w",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":in_wave": {"S": "IN_WAVE"}, ":w": {"S": wave.wave_id}},
        )
        assert wave.closed_at is None  # the record as created; the deadline counts from the close
        closed = wave.closes_at
        card = CardRecord(
            card_number=new_card_number(),
            scheme="2023",
            training_balance=balance,
            purchase_deadline=closed + timedelta(days=15),
            wave_id=wave.wave_id,
            issued_at=closed,
        )
        self.outcomes.settle([Settlement(applicant_id, wave.wave_id, ApplicantStatus.SELECTED, card=card)])
        return card

    def report(self) -> LedgerReport:
        partners = load_partners()
        return ledger_report(self.ledger.totals(books(partners.platform_ids(), partners.payment_ids())))

    def card_balance(self, applicant_id: str) -> int:
        record = self.applicants.get(applicant_id)
        assert record is not None and record.card is not None
        return record.card.training_balance


@pytest.fixture
def market(aws: Resources, clients: dict[str, Any]) -> Market:
    return build_market(aws, clients)


def build_market(aws: Resources, clients: dict[str, Any]) -> Market:
    db = clients["dynamodb"]
    tables = {
        name: physical(aws, f"Data{name.capitalize()}Table")
        for name in ("applicants", "waves", "catalog", "ledger", "outbox", "exclusions")
    }
    clock = FixedClock()
    ledger = DynamoDBLedger(db, tables["ledger"], shards=LEDGER_SHARDS)
    ledger.post(postings.allocation("APBN-TEST", BUDGET, clock.now()))
    applicants = DynamoDBApplicantRepository(db, tables["applicants"])
    catalog = DynamoDBCatalog(db, tables["catalog"])
    purchases = DynamoDBPurchases(db, tables["applicants"], tables["catalog"], ledger)
    return Market(
        db=db,
        clock=clock,
        applicants=applicants,
        waves=DynamoDBWaveRepository(db, tables["waves"]),
        ledger=ledger,
        catalog=CatalogService(catalog, load_partners(), clock),
        purchases=purchases,
        market=MarketplaceService(catalog, purchases, applicants, clock, pause=0),
        partners=PartnerService(DynamoDBVouchers(db, tables["applicants"]), NamesInClear(), clock),
        # One thread: moto's in-process backends are not thread-safe.
        outcomes=DynamoDBOutcomeWriter(db, tables["applicants"], tables["outbox"], clock, ledger, threads=1),
        cards=DynamoDBDueCards(db, tables["applicants"], tables["exclusions"], tables["outbox"], ledger),
        exclusions=DynamoDBExclusionRepository(db, tables["exclusions"]),
        tables=tables,
    )


def sweep_pages(sweeper: ShardSweeper, item: ShardItem, limit: int = CARDS_PER_INVOCATION) -> list[ShardSwept]:
    """A shard swept as the state machine loops on it: each page's JSON output is the next
    page's input, until its cursor is null. Every page of it."""
    pages: list[ShardSwept] = []
    state = item.model_dump(mode="json")
    while True:
        page = sweeper.sweep(ShardItem.model_validate(state), limit)
        pages.append(page)
        state = page.model_dump(mode="json")
        if state["cursor"] is None:
            return pages
        assert len(pages) < 1_000, "the shard's cursor never runs out"


def code_of(call: Any) -> str:
    try:
        call()
    except DomainError as error:
        return error.code
    return "OK"


def test_a_purchase_debits_the_card_and_posts_it_in_one_go(market: Market) -> None:
    wave = market.wave("w-buy", closed_days_ago=1)
    card = market.card_holder("a-1", wave)
    course = market.course(1_250_000)

    bought = market.market.buy("account-a-1", PurchaseRequest(training_id=course.training_id))

    assert bought.training_balance == market.card_balance("a-1") == 2_250_000
    assert bought.purchase.status is PurchaseStatus.PAID and len(bought.purchase.voucher_code) == 19
    statement = LedgerService(market.ledger, load_partners(), market.clock).statement(f"CARD:{card.card_number}")
    assert [(e.kind, e.debit, e.credit, e.balance_after) for e in statement.entries] == [
        ("CARD_FUNDED", 3_500_000, 0, 3_500_000),
        ("PURCHASE", 0, 1_250_000, 2_250_000),
    ]
    assert statement.balance == market.card_balance("a-1")  # recomputed from the entries alone
    report = market.report()
    assert report.balanced and report.committed == 2_250_000 and report.disbursed == 1_250_000
    assert report.available == BUDGET - 3_500_000
    first_purchase = market.applicants.get("a-1")
    assert first_purchase is not None and first_purchase.card is not None
    assert first_purchase.card.first_purchase_at == market.clock.now()


def test_a_replayed_purchase_transaction_writes_nothing(market: Market) -> None:
    wave = market.wave("w-replay", closed_days_ago=1)
    card = market.card_holder("a-1", wave)
    course = market.course(500_000)
    bought = market.market.buy("account-a-1", PurchaseRequest(training_id=course.training_id))
    posting = postings.purchase(bought.purchase.purchase_id, card.card_number, "PINTARIA", 500_000, market.clock.now())

    again = market.purchases.buy(bought.purchase, card.training_balance, posting)

    assert again is BuyOutcome.CARD_CHANGED
    assert market.card_balance("a-1") == 3_000_000 and market.report().disbursed == 500_000


@pytest.mark.parametrize(
    ("balance", "status", "days_after_close", "code"),
    [
        (900_000, ApplicantStatus.SELECTED, 1, "INSUFFICIENT_BALANCE"),
        (3_500_000, ApplicantStatus.SELECTED, 20, "PURCHASE_DEADLINE_PASSED"),
    ],
)
def test_purchases_the_card_cannot_pay_for_are_refused(
    market: Market, balance: int, status: ApplicantStatus, days_after_close: int, code: str
) -> None:
    wave = market.wave(f"w-{code.lower()}", closed_days_ago=days_after_close)
    market.card_holder("a-1", wave, balance=balance)
    course = market.course(1_000_000)
    assert code_of(lambda: market.market.buy("account-a-1", PurchaseRequest(training_id=course.training_id))) == code
    assert market.card_balance("a-1") == balance


def test_only_card_holders_buy_and_only_existing_courses(market: Market) -> None:
    market.applicants.create(applicant("a-2"))
    course = market.course(100_000)
    assert code_of(lambda: market.market.buy("account-a-2", PurchaseRequest(training_id=course.training_id))) == (
        "NOT_A_RECIPIENT"
    )
    assert code_of(lambda: market.market.buy("nobody", PurchaseRequest(training_id=course.training_id))) == (
        "PROFILE_NOT_FOUND"
    )
    wave = market.wave("w-x", closed_days_ago=1)
    market.card_holder("a-3", wave)
    missing = PurchaseRequest(training_id="trn-000000000000")
    assert code_of(lambda: market.market.buy("account-a-3", missing)) == "TRAINING_NOT_FOUND"


def test_a_voucher_is_redeemed_once_completed_once_and_reviewed_once(market: Market) -> None:
    wave = market.wave("w-voucher", closed_days_ago=1)
    market.card_holder("a-1", wave)
    course = market.course(300_000, platform="PINTARIA")
    purchase = market.market.buy("account-a-1", PurchaseRequest(training_id=course.training_id)).purchase
    pintaria, tokopedia, bni = (load_partners().get(p) for p in ("PINTARIA", "TOKOPEDIA", "BNI"))
    assert pintaria and tokopedia and bni
    code = purchase.voucher_code
    finished = market.clock.now() + timedelta(hours=5)

    def complete(certificate: str = "CERT-001") -> str:
        return code_of(lambda: market.partners.complete(pintaria, code, finished, certificate))

    assert complete() == "VOUCHER_NOT_REDEEMED"
    assert code_of(lambda: market.partners.redeem(tokopedia, code)) == "VOUCHER_NOT_FOUND"  # another platform's
    assert code_of(lambda: market.partners.redeem(bni, code)) == "PLATFORMS_ONLY"
    assert code_of(lambda: market.partners.redeem(pintaria, "0000-0000-0000-0000")) == "VOUCHER_NOT_FOUND"
    review = ReviewRequest(rating=5, review="Sangat bermanfaat")
    assert code_of(lambda: market.market.review("account-a-1", purchase.purchase_id, review)) == "NOT_COMPLETED"

    redeemed = market.partners.redeem(pintaria, code)
    assert redeemed.buyer_name == "B*** a-1" and redeemed.purchase.status is PurchaseStatus.REDEEMED
    assert code_of(lambda: market.partners.redeem(pintaria, code)) == "VOUCHER_ALREADY_REDEEMED"
    market.clock.advance(hours=6)
    assert complete() == "OK"
    assert complete() == "OK"  # the same report again: no second effect
    assert complete("CERT-OTHER") == "ALREADY_COMPLETED"

    reviewed = market.market.review("account-a-1", purchase.purchase_id, review)
    assert reviewed.review is not None and reviewed.review.rating == 5
    assert code_of(lambda: market.market.review("account-a-1", purchase.purchase_id, review)) == "ALREADY_REVIEWED"
    assert code_of(lambda: market.market.review("account-a-1", "pur-unknown", review)) == "PURCHASE_NOT_FOUND"
    (listed,), _ = market.market.purchases("account-a-1", 10, None)
    assert (listed.status, listed.certificate_id, listed.completed_at) == (
        PurchaseStatus.COMPLETED,
        "CERT-001",
        finished,
    )
    rated = market.catalog.get(course.training_id)
    assert (rated.rating_sum, rated.rating_count) == (5, 1)
    assert market.report().disbursed == 300_000  # redemption and completion move no money


def test_the_catalog_filters_and_pages_without_skipping(market: Market) -> None:
    for i in range(7):
        market.course(100_000 + i * 1000, platform="PINTARIA" if i % 2 else "SISNAKER", title=f"Kelas Digital {i}")
    market.course(200_000, title="Menjahit Dasar")
    seen: list[str] = []
    token: str | None = None
    while True:
        page, token = market.catalog.search(TrainingFilters(q="digital"), 3, token)
        assert len(page) <= 3
        seen += [t.title for t in page]
        if token is None:
            break
    assert sorted(seen) == [f"Kelas Digital {i}" for i in range(7)]
    pintaria, _ = market.catalog.search(TrainingFilters(platform="PINTARIA"), 50, None)
    assert {t.platform for t in pintaria} == {"PINTARIA"} and len(pintaria) == 4  # three digital, one sewing


def test_the_sweep_revokes_exactly_the_cards_unused_past_their_deadline(market: Market) -> None:
    due = market.wave("w-due", closed_days_ago=20)  # 2023 scheme: 15 days, so this wave is due
    fresh = market.wave("w-fresh", closed_days_ago=3)
    unused = market.card_holder("unused", due, other_nik_hashes=("k2:nik-unused",))  # registered mid-rotation
    market.card_holder("used", due)
    market.card_holder("fresh", fresh)
    # The used card bought before its deadline (the clock moved back to then).
    real_now = market.clock.moment
    market.clock.moment = real_now - timedelta(days=10)
    course = market.course(400_000)
    market.market.buy("account-used", PurchaseRequest(training_id=course.training_id))
    market.clock.moment = real_now
    before = market.report()

    planner = SweepPlanner(market.waves, market.clock)
    plan = planner.plan()
    assert plan.wave_ids == ["w-due"] and len(plan.shards) == PARTICIPANT_SHARDS
    sweeper = ShardSweeper(market.cards, market.applicants, market.clock)
    swept = [sweep_pages(sweeper, item)[-1] for item in plan.shards]
    done = planner.finish(plan.wave_ids, swept)

    assert done.waves["w-due"].revoked == 1 and done.waves["w-due"].returned == unused.training_balance
    statuses = {a: market.applicants.get(a).status for a in ("unused", "used", "fresh")}  # type: ignore[union-attr]
    assert statuses == {
        "unused": ApplicantStatus.REVOKED,
        "used": ApplicantStatus.SELECTED,
        "fresh": ApplicantStatus.SELECTED,
    }
    assert market.card_balance("unused") == 0
    assert BLACKLIST in market.exclusions.sources_for(applicant("unused").nik_hash)
    assert BLACKLIST in market.exclusions.sources_for("k2:nik-unused")  # under every key it was known by
    assert BLACKLIST not in market.exclusions.sources_for(applicant("used").nik_hash)
    after = market.report()
    assert after.returned - before.returned == unused.training_balance and after.balanced
    outbox = [from_item(i) for i in market.db.scan(TableName=market.tables["outbox"])["Items"]]
    assert [m["applicant_id"] for m in outbox if m["kind"] == "CARD_REVOKED"] == ["unused"]
    # Swept waves are not planned again; a re-run of a shard revokes nothing.
    assert planner.plan().wave_ids == []
    shard = participant_shard("unused")
    assert sweeper.sweep(ShardItem(wave_id="w-due", shard=shard)) == ShardSwept(
        wave_id="w-due", shard=shard, cursor=None, revoked=0, returned=0
    )
    assert code_of(lambda: market.market.buy("account-unused", PurchaseRequest(training_id=course.training_id))) == (
        "CARD_REVOKED"
    )
    assert market.report() == after


def same_shard_ids(prefix: str, count: int, shard: int) -> list[str]:
    """``count`` applicant ids of one participant shard, in the order the index keeps them."""
    found = [i for i in (f"{prefix}-{n:04d}" for n in range(10_000)) if participant_shard(i) == shard]
    return sorted(found[:count])


def shard_of_cards(market: Market, wave: Wave, shard: int) -> tuple[list[str], list[str]]:
    """Seven cards of one shard of ``wave``: five due, then two that stay in the index but are
    not revoked (one not SELECTED, one whose deadline was moved on), sorting first: the first
    page of two revokes nothing. The ids due and the ids skipped."""
    skipped = same_shard_ids(f"{wave.wave_id}-0skip", 2, shard)
    due = same_shard_ids(f"{wave.wave_id}-1due", 5, shard)
    for i, applicant_id in enumerate(due):
        market.card_holder(applicant_id, wave, balance=1_000_000 + i * 100_000)
    for applicant_id in skipped:
        market.card_holder(applicant_id, wave)
    key = {"pk": {"S": f"APPLICANT#{skipped[0]}"}, "sk": {"S": "PROFILE"}}
    market.db.update_item(
        TableName=market.tables["applicants"],
        Key=key,
        UpdateExpression="SET #s = :in_wave",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":in_wave": {"S": "IN_WAVE"}},
    )
    key = {"pk": {"S": f"APPLICANT#{skipped[1]}"}, "sk": {"S": "PROFILE"}}
    later = market.clock.now() + timedelta(days=3)
    market.db.update_item(
        TableName=market.tables["applicants"],
        Key=key,
        UpdateExpression="SET card.purchase_deadline = :later",
        ExpressionAttributeValues={":later": {"S": later.isoformat()}},
    )
    return due, skipped


def revoked_ids(market: Market) -> list[str]:
    outbox = [from_item(i) for i in market.db.scan(TableName=market.tables["outbox"])["Items"]]
    return sorted(m["applicant_id"] for m in outbox if m["kind"] == "CARD_REVOKED")


def test_a_shard_is_swept_a_page_at_a_time_to_the_same_end_as_in_one_go(market: Market) -> None:
    shard = 7
    paged, whole = market.wave("w-paged", closed_days_ago=20), market.wave("w-whole", closed_days_ago=20)
    due, skipped = shard_of_cards(market, paged, shard)
    whole_due, _ = shard_of_cards(market, whole, shard)
    sweeper = ShardSweeper(market.cards, market.applicants, market.clock)
    before = market.report()

    pages = sweep_pages(sweeper, ShardItem(wave_id="w-paged", shard=shard), limit=2)

    page_revoked = [
        page.revoked - earlier for page, earlier in zip(pages, [0, *(p.revoked for p in pages[:-1])], strict=True)
    ]
    assert page_revoked[0] == 0 and pages[0].cursor is not None  # only skipped cards: on past them
    assert all(n <= 2 for n in page_revoked) and len(pages) >= 4  # seven cards, two a page
    assert all(page.cursor for page in pages[:-1]) and pages[-1].cursor is None
    assert len({page.cursor for page in pages}) == len(pages)  # never the same place twice
    balances = sum(1_000_000 + i * 100_000 for i in range(5))
    assert (pages[-1].revoked, pages[-1].returned) == (5, balances)
    assert [(p.wave_id, p.shard) for p in pages] == [("w-paged", shard)] * len(pages)
    assert revoked_ids(market) == due  # each once
    assert {market.applicants.get(a).status for a in skipped} == {  # type: ignore[union-attr]
        ApplicantStatus.IN_WAVE,
        ApplicantStatus.SELECTED,
    }
    assert market.report().returned - before.returned == balances

    (one_go,) = sweep_pages(sweeper, ShardItem(wave_id="w-whole", shard=shard))  # 2,000 a page
    assert (one_go.revoked, one_go.returned, one_go.cursor) == (pages[-1].revoked, pages[-1].returned, None)
    assert revoked_ids(market) == sorted(due + whole_due)

    # A second run of the shard pages over the skipped cards that stay, and revokes nothing.
    again = sweep_pages(sweeper, ShardItem(wave_id="w-paged", shard=shard), limit=1)
    assert again[-1].revoked == again[-1].returned == 0 and len(again) >= 2
    assert revoked_ids(market) == sorted(due + whole_due)


def test_the_due_cards_cursor_is_keys_only_and_outlives_its_card(market: Market) -> None:
    shard = 11
    wave = market.wave("w-cursor", closed_days_ago=20)
    ids = same_shard_ids("w-cursor", 5, shard)
    for applicant_id in ids:
        market.card_holder(applicant_id, wave)
    market.card_holder(same_shard_ids("w-cursor-other", 1, shard + 1)[0], wave)  # another shard

    first, cursor = market.cards.due("w-cursor", shard, None, 2)
    assert first == ids[:2] and cursor is not None
    position = json.loads(base64.urlsafe_b64decode(cursor))
    assert position == {"card_due": f"w-cursor#{shard:02d}", "pk": f"APPLICANT#{ids[1]}", "sk": "PROFILE"}
    # The page's last card leaves the index (used or revoked): the cursor still starts after it.
    market.db.update_item(
        TableName=market.tables["applicants"],
        Key={"pk": {"S": f"APPLICANT#{ids[1]}"}, "sk": {"S": "PROFILE"}},
        UpdateExpression="REMOVE card_due",
    )
    second, after = market.cards.due("w-cursor", shard, cursor, 2)
    assert second == ids[2:4] and after not in (None, cursor)
    rest, end = market.cards.due("w-cursor", shard, after, 2)
    assert (rest, end) == (ids[4:], None)
    assert market.cards.due("w-cursor", shard, None, 10) == ([ids[0], *ids[2:]], None)

    elsewhere = {"card_due": {"S": f"w-cursor#{shard + 1:02d}"}, "pk": {"S": "APPLICANT#x"}, "sk": {"S": "PROFILE"}}
    for foreign in (
        encode_cursor(elsewhere),  # another shard's position
        "not base64 json!",
        base64.urlsafe_b64encode(b'{"pk": "APPLICANT#x"}').decode(),
    ):
        with pytest.raises(ValueError, match="not a cursor"):
            market.cards.due("w-cursor", shard, foreign, 2)
