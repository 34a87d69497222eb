"""Property-based: random sequences of purchases, redemptions, completions, revocations and
retries, on moto with the real adapters. Whatever happens, no card balance is negative, the
ledger balances, a card's balance is what its ledger entries add up to, and money is conserved
between the budget, the cards, the platforms and the treasury."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from localcloud.provision import Resources
from prakerja.cards.deadlines import ShardSweeper, SweepPlanner
from prakerja.errors import DomainError
from prakerja.ledger import postings
from prakerja.ledger.postings import Account
from prakerja.marketplace.models import PurchaseRecord, PurchaseRequest, PurchaseStatus
from prakerja.marketplace.ports import BuyOutcome
from prakerja.partners import load_partners
from tests.integration.test_marketplace import BUDGET, Market, build_market, sweep_pages

PRICES = (150_000, 400_000, 750_000, 1_100_000)


class LedgerMachine(RuleBasedStateMachine):
    """One market per example; each example opens its own wave and card holders."""

    market: Market
    holders = Bundle("holders")
    bought = Bundle("bought")

    # Across examples, as the market (and its ledger) is shared by them.
    purchases: dict[str, PurchaseRecord]
    issued: dict[str, int]  # applicant -> the balance its card was funded with

    def __init__(self) -> None:
        super().__init__()
        self.serial = 0
        self.courses: dict[int, str] = {}

    @initialize()
    def open_a_wave(self) -> None:
        LedgerMachine.examples += 1  # a fresh wave per example: its cards are new
        self.wave = self.market.wave(f"w-prop-{LedgerMachine.examples}", closed_days_ago=1)
        for price in PRICES:
            self.courses[price] = self.market.course(price, platform="PINTARIA").training_id

    examples = 0

    @rule(target=holders, balance=st.sampled_from([1_000_000, 3_500_000]))
    def issue_a_card(self, balance: int) -> str:
        self.serial += 1
        applicant_id = f"p{LedgerMachine.examples}-{self.serial}"
        self.market.card_holder(applicant_id, self.wave, balance=balance)
        self.issued[applicant_id] = balance
        return applicant_id

    @rule(target=bought, holder=holders, price=st.sampled_from(PRICES))
    def buy(self, holder: str, price: int) -> str:
        try:
            bought = self.market.market.buy(f"account-{holder}", PurchaseRequest(training_id=self.courses[price]))
        except DomainError as refused:
            assert refused.code in {"INSUFFICIENT_BALANCE", "CARD_REVOKED", "PURCHASE_DEADLINE_PASSED"}
            return ""
        self.purchases[bought.purchase.purchase_id] = bought.purchase
        return bought.purchase.purchase_id

    @rule(purchase_id=bought)
    def retry_the_purchase_transaction(self, purchase_id: str) -> None:
        """A retried request replays the transaction it already wrote: nothing more is written."""
        if not purchase_id:
            return
        p = self.purchases[purchase_id]
        posting = postings.purchase(p.purchase_id, p.card_number, p.platform, p.price, p.purchased_at)
        assert self.market.purchases.buy(p, p.balance_after + p.price, posting) is not BuyOutcome.BOUGHT

    @rule(purchase_id=bought, complete=st.booleans())
    def redeem_and_maybe_complete(self, purchase_id: str, complete: bool) -> None:
        if not purchase_id:
            return
        pintaria = load_partners().get("PINTARIA")
        assert pintaria is not None
        code = self.purchases[purchase_id].voucher_code
        try:
            self.market.partners.redeem(pintaria, code)
        except DomainError as refused:
            assert refused.code == "VOUCHER_ALREADY_REDEEMED"
        if complete:
            done = self.market.partners.complete(pintaria, code, self.market.clock.now(), f"CERT-{purchase_id[-8:]}")
            assert done.status is PurchaseStatus.COMPLETED

    @rule(days=st.integers(min_value=0, max_value=20))
    def time_passes_and_the_sweep_runs(self, days: int) -> None:
        self.market.clock.advance(days=days)
        sweeper = ShardSweeper(self.market.cards, self.market.applicants, self.market.clock)
        planner = SweepPlanner(self.market.waves, self.market.clock)
        plan = planner.plan()
        # Pages of one card: the shards' loops step over revocations, used cards and re-runs.
        planner.finish(plan.wave_ids, [sweep_pages(sweeper, i, limit=1)[-1] for i in plan.shards])

    @invariant()
    def money_is_conserved_and_no_card_is_negative(self) -> None:
        report = self.market.report()
        assert report.balanced
        assert report.budget == BUDGET
        assert report.budget == report.available + report.committed + report.disbursed + report.returned
        balances = returned = 0
        for applicant_id, funded in self.issued.items():
            record = self.market.applicants.get(applicant_id)
            assert record is not None and record.card is not None
            card = record.card
            assert card.training_balance >= 0
            entries, _ = self.market.ledger.entries(Account.card(card.card_number), 200, None)
            assert sum(int(e["debit"]) - int(e["credit"]) for e in entries) == card.training_balance
            spent = sum(p.price for p in self.purchases.values() if p.card_number == card.card_number)
            if card.revoked_at is None:
                assert card.training_balance == funded - spent
            else:  # revoked only if never used, with all of it returned
                assert spent == 0 and card.training_balance == 0
                returned += funded
            balances += card.training_balance
        assert report.committed == balances
        assert report.returned == returned
        assert report.disbursed == sum(p.price for p in self.purchases.values())
        assert report.available == BUDGET - sum(self.issued.values())


def test_the_ledger_accounts_for_every_rupiah(aws: Resources, clients: dict[str, Any]) -> None:
    LedgerMachine.market = build_market(aws, clients)
    LedgerMachine.examples = 0
    LedgerMachine.purchases = {}
    LedgerMachine.issued = {}
    run = LedgerMachine.TestCase
    run.settings = settings(
        max_examples=4,  # each example is a fresh wave of cards; moto makes a step ~100 ms
        stateful_step_count=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    run().runTest()
