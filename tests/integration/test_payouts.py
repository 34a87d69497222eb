"""Transfers exactly once, on moto with the real DynamoDB adapters and the ledger: duplicate
and contradicting callbacks, callbacks that never come, a partner that cannot be reached, a
retried transfer step, re-runs, and a refused account replaced by its owner. The partner is an
in-memory fake that, like a real one, keys transfers by their id."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from localcloud.provision import Resources
from prakerja.adapters import keys
from prakerja.adapters.dynamodb import to_item
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.adapters.dynamodb_payouts import DynamoDBPayoutAccounts, DynamoDBPayouts
from prakerja.errors import Conflict, NotFound
from prakerja.ledger import postings
from prakerja.ledger.report import books, ledger_report
from prakerja.partners import load_partners
from prakerja.payouts.models import (
    AccountStatus,
    AccountType,
    IncentiveKind,
    PayoutAccount,
    PayoutRecord,
    PayoutStatus,
    Provider,
    TransferAnswer,
    TransferState,
    payout_id,
)
from prakerja.payouts.ports import AccountCheck, PartnerUnavailable, TransferPending, TransferRequest
from prakerja.payouts.reconciliation import DiscrepancyKind, reconcile
from prakerja.payouts.service import AccountNumbers, Settlements, TransferService
from tests.fakes import FakeCipher, FixedClock
from tests.integration.conftest import physical

AMOUNT = 600_000
APPLICANT = "a0000000-0000-4000-8000-000000000001"


@dataclass
class FakePartner:
    """Transfers by id: a repeat returns the transfer as it stands and never pays again."""

    outcome: TransferState = TransferState.PENDING
    failure_code: str | None = None
    unreachable: int = 0  # the next n calls raise PartnerUnavailable
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def check_account(self, *args: object) -> AccountCheck:
        return AccountCheck(AccountStatus.VALID)

    def transfer(self, request: TransferRequest) -> TransferAnswer:
        self.requests.append(request.transfer_id)
        self._maybe_unreachable()
        current = self.transfers.setdefault(
            request.transfer_id, {"account": request.account_number, "amount": request.amount, "state": self.outcome}
        )
        return TransferAnswer(current["state"], f"REF-{request.transfer_id}", self.failure_code)

    def status(self, provider: Provider, transfer_id: str) -> TransferAnswer | None:
        self._maybe_unreachable()
        current = self.transfers.get(transfer_id)
        return TransferAnswer(current["state"], f"REF-{transfer_id}", self.failure_code) if current else None

    def settle(self, transfer_id: str, state: TransferState) -> TransferAnswer:
        self.transfers[transfer_id]["state"] = state
        return TransferAnswer(state, f"REF-{transfer_id}", self.failure_code)

    def paid(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for t in self.transfers.values():
            if t["state"] == TransferState.SUCCESS:
                totals[t["account"]] = totals.get(t["account"], 0) + t["amount"]
        return totals

    def _maybe_unreachable(self) -> None:
        if self.unreachable:
            self.unreachable -= 1
            raise PartnerUnavailable("no answer")


class Resumed:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, object]]] = []

    def succeed(self, task_token: str, output: dict[str, object]) -> None:
        self.calls.append((task_token, output))


class NoLimit:
    def acquire(self, provider: Provider) -> None:
        pass


class Tally:
    """What the payout metrics are told: each outcome as (status, failure code), and the
    transfers found stuck."""

    def __init__(self) -> None:
        self.outcomes: list[tuple[str, str | None]] = []
        self.stuck_transfers: list[str] = []

    def settled(self, payout: PayoutRecord) -> None:
        self.outcomes.append((str(payout.status), str(payout.failure_code) if payout.failure_code else None))

    def stuck(self, payout: PayoutRecord) -> None:
        self.stuck_transfers.append(payout.transfer_id)


@dataclass
class Payments:
    payouts: DynamoDBPayouts
    accounts: DynamoDBPayoutAccounts
    ledger: DynamoDBLedger
    partner: FakePartner
    resumed: Resumed
    settlements: Settlements
    transfers: TransferService
    clock: FixedClock
    numbers: AccountNumbers
    tally: Tally

    def link(self, number: str, version: int = 1) -> None:
        account = PayoutAccount(
            type=AccountType.BANK,
            provider=Provider.BNI,
            account_cipher=self.numbers.seal(APPLICANT, number),
            account_masked="******" + number[-4:],
            status=AccountStatus.PENDING,
            version=version,
            linked_at=self.clock.now(),
        )
        assert self.accounts.link(APPLICANT, account)
        assert self.accounts.record_check(APPLICANT, version, AccountCheck(AccountStatus.VALID), self.clock.now())

    def grant(self) -> str:
        now = self.clock.now()
        pid = payout_id(APPLICANT, IncentiveKind.JOB_SEARCH, 1)
        record = PayoutRecord(pid, APPLICANT, IncentiveKind.JOB_SEARCH, 1, AMOUNT, PayoutStatus.SCHEDULED, now, now)
        assert self.payouts.grant([record], [postings.entitlement(pid, APPLICANT, AMOUNT, now)], payable=True)
        return pid

    def payout(self, pid: str) -> PayoutRecord:
        found = self.payouts.get(APPLICANT, pid)
        assert found is not None
        return found

    def report(self) -> Any:
        return ledger_report(self.ledger.totals(books([], load_partners().payment_ids())))


@pytest.fixture
def pay(aws: Resources, clients: dict[str, Any]) -> Payments:
    db = clients["dynamodb"]
    ledger = DynamoDBLedger(db, physical(aws, "DataLedgerTable"), shards=4)
    ledger.post(postings.allocation("APBN-TEST", 10 * AMOUNT, FixedClock().now()))
    table = physical(aws, "DataPayoutsTable")
    payouts = DynamoDBPayouts(db, table, ledger)
    accounts = DynamoDBPayoutAccounts(db, table)
    clock = FixedClock()
    partner, resumed = FakePartner(), Resumed()
    numbers = AccountNumbers(FakeCipher())
    tally = Tally()
    settlements = Settlements(payouts, resumed, clock, tally)
    transfers = TransferService(accounts, payouts, numbers, partner, settlements, NoLimit(), clock, tally)
    return Payments(payouts, accounts, ledger, partner, resumed, settlements, transfers, clock, numbers, tally)


def test_a_transfer_waits_for_its_callback_and_a_repeated_callback_changes_nothing(pay: Payments) -> None:
    pay.link("1234567890")
    pid = pay.grant()
    assert pay.transfers.due(10) == [(APPLICANT, pid)]
    assert pay.transfers.send(APPLICANT, pid, "token-1") is None  # waiting for the callback
    sent = pay.payout(pid)
    assert (sent.status, sent.transfer_id, sent.task_token) == (PayoutStatus.PROCESSING, f"{pid}-1", "token-1")
    assert pay.report().in_transit == AMOUNT

    answer = pay.partner.settle(sent.transfer_id, TransferState.SUCCESS)
    paid = pay.settlements.confirm("BNI", sent.transfer_id, answer)
    totals = pay.ledger.totals(books([], ["BNI"]))
    again = pay.settlements.confirm("BNI", sent.transfer_id, answer)  # the partner's duplicate
    assert paid.status == again.status == PayoutStatus.PAID
    assert pay.ledger.totals(books([], ["BNI"])) == totals  # posted once
    assert [token for token, _ in pay.resumed.calls] == ["token-1", "token-1"]  # resuming twice is harmless
    with pytest.raises(Conflict) as contradicted:
        pay.settlements.confirm("BNI", sent.transfer_id, TransferAnswer(TransferState.FAILED, "x", "ACCOUNT_BLOCKED"))
    assert contradicted.value.code == "TRANSFER_ALREADY_SETTLED"
    with pytest.raises(NotFound):
        pay.settlements.confirm("OVO", sent.transfer_id, answer)  # another partner's transfer
    report = pay.report()
    assert report.balanced and report.in_transit == 0 and pay.partner.paid() == {"1234567890": AMOUNT}
    assert pay.transfers.due(10) == []  # a re-run finds nothing to pay
    assert pay.tally.outcomes == [("PAID", None)]  # counted once, not per callback


def test_a_retried_transfer_step_sends_the_same_transfer_id_and_the_partner_pays_once(pay: Payments) -> None:
    pay.link("1234567890")
    pid = pay.grant()
    pay.partner.unreachable = 1  # the first request's answer is lost
    with pytest.raises(PartnerUnavailable):
        pay.transfers.send(APPLICANT, pid, "token-1")
    assert pay.transfers.send(APPLICANT, pid, "token-2") is None  # the workflow's retry
    assert pay.transfers.send(APPLICANT, pid, "token-3") is None  # and a Lambda retry of that one
    assert pay.partner.requests == [f"{pid}-1"] * 3
    assert pay.payout(pid).task_token == "token-3"
    assert pay.report().in_transit == AMOUNT  # sent once in the ledger too

    # No callback comes: the workflow asks the partner.
    with pytest.raises(TransferPending):
        pay.transfers.check(APPLICANT, pid)
    pay.partner.settle(f"{pid}-1", TransferState.SUCCESS)
    assert pay.transfers.check(APPLICANT, pid)["status"] == "PAID"
    assert pay.transfers.send(APPLICANT, pid, "token-4") == {  # a re-run: resumed at once, nothing sent
        "payout_id": pid,
        "transfer_id": f"{pid}-1",
        "status": "PAID",
        "failure_code": None,
    }
    assert len(pay.partner.requests) == 3 and pay.partner.paid() == {"1234567890": AMOUNT}
    assert pay.report().balanced and pay.report().in_transit == 0
    # The retries within the run came before the recheck time: nothing was stuck.
    assert (pay.tally.outcomes, pay.tally.stuck_transfers) == ([("PAID", None)], [])


def test_a_transfer_the_partner_never_got_is_held_and_sent_again_under_its_id(pay: Payments) -> None:
    pay.link("1234567890")
    pid = pay.grant()
    pay.partner.unreachable = 1
    with pytest.raises(PartnerUnavailable):
        pay.transfers.send(APPLICANT, pid, "token-1")
    assert pay.transfers.check(APPLICANT, pid) == {  # not found at the partner
        "payout_id": pid,
        "transfer_id": f"{pid}-1",
        "status": "FAILED",
        "failure_code": "PARTNER_UNAVAILABLE",
    }
    assert pay.report().in_transit == AMOUNT  # the money stays on its way: the id may still arrive
    assert pay.transfers.due(10) == []
    pay.clock.advance(minutes=11)
    assert pay.transfers.due(10) == [(APPLICANT, pid)]  # a later run
    assert pay.transfers.send(APPLICANT, pid, "token-2") is None
    assert pay.partner.requests == [f"{pid}-1", f"{pid}-1"]
    paid = pay.settlements.confirm("BNI", f"{pid}-1", pay.partner.settle(f"{pid}-1", TransferState.SUCCESS))
    assert (paid.status, paid.failure_code, paid.failed_at) == (PayoutStatus.PAID, None, None)
    assert pay.partner.paid() == {"1234567890": AMOUNT} and pay.report().in_transit == 0
    # Held for the partner's outage, then paid: both are counted, the failure under its code.
    assert pay.tally.outcomes == [("FAILED", "PARTNER_UNAVAILABLE"), ("PAID", None)]
    assert pay.tally.stuck_transfers == []  # held, not waiting on the partner


def test_a_refused_account_returns_the_money_and_its_replacement_is_paid_under_a_new_transfer(
    pay: Payments,
) -> None:
    pay.link("1234567890")
    pid = pay.grant()
    pay.partner.outcome, pay.partner.failure_code = TransferState.FAILED, "ACCOUNT_INACTIVE"
    result = pay.transfers.send(APPLICANT, pid, "token-1")
    assert result is not None and (result["status"], result["failure_code"]) == ("FAILED", "ACCOUNT_INACTIVE")
    assert pay.resumed.calls[-1][0] == "token-1"  # settled at once: the step resumes itself
    report = pay.report()
    assert report.in_transit == 0 and report.committed == AMOUNT  # back to the incentive due
    assert pay.transfers.due(10) == []  # waits for its owner

    pay.partner.outcome, pay.partner.failure_code = TransferState.PENDING, None
    pay.link("5556667778", version=2)
    failed = pay.payout(pid)
    assert pay.payouts.release(failed, failed.attempt + 1, pay.clock.now())
    assert pay.transfers.due(10) == [(APPLICANT, pid)]
    assert pay.transfers.send(APPLICANT, pid, "token-2") is None
    assert pay.partner.requests == [f"{pid}-1", f"{pid}-2"]
    pay.settlements.confirm("BNI", f"{pid}-2", pay.partner.settle(f"{pid}-2", TransferState.SUCCESS))
    assert pay.partner.paid() == {"5556667778": AMOUNT}
    with pytest.raises(Conflict) as late:  # the old transfer's late news changes nothing
        pay.settlements.confirm("BNI", f"{pid}-1", TransferAnswer(TransferState.FAILED, "x", "ACCOUNT_INACTIVE"))
    assert late.value.code == "TRANSFER_SUPERSEDED"
    report = pay.report()
    assert report.balanced and report.committed == 0 and report.in_transit == 0
    assert pay.tally.outcomes == [("FAILED", "ACCOUNT_INACTIVE"), ("PAID", None)]


def test_a_transfer_still_unconfirmed_when_a_later_run_comes_back_is_counted_stuck_each_time(pay: Payments) -> None:
    pay.link("1234567890")
    pid = pay.grant()
    assert pay.transfers.send(APPLICANT, pid, "token-1") is None
    with pytest.raises(TransferPending):  # no callback in time, and the partner is still on it
        pay.transfers.check(APPLICANT, pid)
    pay.clock.advance(minutes=59)
    assert pay.transfers.due(10) == []
    pay.clock.advance(minutes=2)
    assert pay.transfers.due(10) == [(APPLICANT, pid)]  # the recheck fell due: a later run
    assert pay.transfers.send(APPLICANT, pid, "token-2") is None
    assert pay.transfers.send(APPLICANT, pid, "token-3") is None  # that run's own retry: not again
    assert pay.tally.stuck_transfers == [f"{pid}-1"]
    pay.clock.advance(minutes=61)
    assert pay.transfers.send(APPLICANT, pid, "token-4") is None  # still unconfirmed an hour later
    assert pay.tally.stuck_transfers == [f"{pid}-1", f"{pid}-1"]
    pay.settlements.confirm("BNI", f"{pid}-1", pay.partner.settle(f"{pid}-1", TransferState.SUCCESS))
    assert pay.tally.outcomes == [("PAID", None)]


def test_a_payout_due_without_a_valid_account_is_counted_failed_with_its_code(pay: Payments) -> None:
    pid = pay.grant()
    result = pay.transfers.send(APPLICANT, pid, "token-1")
    assert result is not None and (result["status"], result["failure_code"]) == ("FAILED", "ACCOUNT_NOT_VALID")
    assert pay.transfers.send(APPLICANT, pid, "token-2") is not None  # a re-run: resumed, not counted again
    assert pay.tally.outcomes == [("FAILED", "ACCOUNT_NOT_VALID")]


def test_the_ledger_lists_each_confirmed_payout_for_its_partner_and_day(pay: Payments) -> None:
    pay.link("1234567890")
    pid = pay.grant()
    pay.transfers.send(APPLICANT, pid, "token-1")
    pay.settlements.confirm("BNI", f"{pid}-1", pay.partner.settle(f"{pid}-1", TransferState.SUCCESS))
    day = pay.clock.now().date()
    assert pay.ledger.settled("BNI", day) == {f"{pid}-1": AMOUNT}
    assert pay.ledger.settled("BNI", day + timedelta(days=1)) == {}
    assert pay.ledger.settled("OVO", day) == {}
    result = reconcile("BNI", day, "settlements/BNI/x.csv", [(f"{pid}-1", AMOUNT)], pay.ledger.settled("BNI", day))
    assert (result.status, result.matched) == ("BALANCED", 1)
    planted = reconcile("BNI", day, "k", [(f"{pid}-1", AMOUNT + 1), ("po-x-1", 5), ("po-x-1", 5)], {f"{pid}-1": AMOUNT})
    assert [d.kind for d in planted.discrepancies] == [
        DiscrepancyKind.AMOUNT_MISMATCH,
        DiscrepancyKind.EXTRA,
        DiscrepancyKind.DUPLICATE,
    ]


def test_a_held_applicants_due_payout_is_skipped_until_released(pay: Payments, monkeypatch: pytest.MonkeyPatch) -> None:
    """HOLD_PAYOUTS (prakerja.cases) puts the hold item; a run leaves the payout SCHEDULED and due,
    even when the hold lands between the step's check and its write; the first run after the
    release pays it."""
    pay.link("1234567890")
    pid = pay.grant()
    db, table = pay.payouts._db, pay.payouts._table  # the hold item as adapters/dynamodb_cases.py writes it
    db.put_item(TableName=table, Item=to_item({**keys.payout_hold(APPLICANT), "action_id": "act-1"}))
    assert pay.payouts.held(APPLICANT)
    skipped = pay.transfers.send(APPLICANT, pid, "token-1")
    assert skipped is not None and skipped["status"] == "SCHEDULED"
    # The hold written after the check: begin_transfer's condition still stops it.
    with monkeypatch.context() as late:
        late.setattr(pay.payouts, "held", lambda applicant_id: False)
        again = pay.transfers.send(APPLICANT, pid, "token-2")
    assert again is not None and again["status"] == "SCHEDULED"
    assert pay.partner.requests == [] and pay.payout(pid).status == PayoutStatus.SCHEDULED
    assert pay.transfers.due(10) == [(APPLICANT, pid)]  # still due: the next run collects it
    assert pay.report().in_transit == 0

    db.delete_item(TableName=table, Key=to_item(keys.payout_hold(APPLICANT)))  # released
    assert pay.transfers.send(APPLICANT, pid, "token-3") is None
    assert pay.payout(pid).status == PayoutStatus.PROCESSING and pay.partner.requests == [f"{pid}-1"]
