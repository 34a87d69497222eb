"""Accounts and postings.

Money moving from account A to account B is one posting: B is debited, A credited, by the same
amount. An account's balance is its debits minus its credits, so the program budget, a card's
training balance and a platform's takings are all positive numbers, and the state budget's
balance is minus what it has allocated. Every posting balances, so all balances sum to zero.

A posting's id is derived from the business event it records (``PURCHASE#<purchase id>``):
writing it is conditional on the id being new, which makes each event posted exactly once
however often the step that records it is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AccountKind(StrEnum):
    STATE_BUDGET = "STATE_BUDGET"  # the state budget (APBN) appropriations come from
    PROGRAM_BUDGET = "PROGRAM_BUDGET"  # allocated to the program, not yet committed
    CARD = "CARD"  # one per card: its training balance
    PLATFORM = "PLATFORM"  # one per training platform: what card holders bought there
    INCENTIVE = "INCENTIVE"  # one per applicant: incentives due, not yet sent to a partner
    PAYMENT_PARTNER = "PAYMENT_PARTNER"  # one per payment partner: sent, not yet confirmed paid
    PAID_OUT = "PAID_OUT"  # incentives confirmed paid into applicants' accounts
    TREASURY = "TREASURY"  # unused balances returned to the State Treasury (kas negara)


# Accounts with an owner; the rest are single program-wide accounts.
OWNED = frozenset({AccountKind.CARD, AccountKind.PLATFORM, AccountKind.INCENTIVE, AccountKind.PAYMENT_PARTNER})
# Owners counted in millions: their totals are kept per kind, not per owner.
PER_PERSON = frozenset({AccountKind.CARD, AccountKind.INCENTIVE})


class UnbalancedPosting(ValueError):
    """A programming error: a posting whose debits and credits differ, or a malformed line."""


@dataclass(frozen=True, order=True)
class Account:
    kind: AccountKind
    owner: str = ""

    def __post_init__(self) -> None:
        if (self.kind in OWNED) != bool(self.owner) or ":" in self.owner:
            raise UnbalancedPosting(f"account {self.kind} needs {'an' if self.kind in OWNED else 'no'} owner")

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.owner}" if self.owner else str(self.kind)

    @property
    def book(self) -> str:
        """Where the account's totals are kept: per person-owned kind, else per account."""
        return str(self.kind) if self.kind in PER_PERSON else self.id

    @classmethod
    def parse(cls, text: str) -> Account:
        kind, _, owner = text.partition(":")
        return cls(AccountKind(kind), owner)  # ValueError for anything else

    @classmethod
    def card(cls, card_number: str) -> Account:
        return cls(AccountKind.CARD, card_number)

    @classmethod
    def platform(cls, partner_id: str) -> Account:
        return cls(AccountKind.PLATFORM, partner_id)

    @classmethod
    def incentive(cls, applicant_id: str) -> Account:
        return cls(AccountKind.INCENTIVE, applicant_id)

    @classmethod
    def payment_partner(cls, provider: str) -> Account:
        return cls(AccountKind.PAYMENT_PARTNER, provider)


PROGRAM_BUDGET = Account(AccountKind.PROGRAM_BUDGET)
STATE_BUDGET = Account(AccountKind.STATE_BUDGET)
TREASURY = Account(AccountKind.TREASURY)
PAID_OUT = Account(AccountKind.PAID_OUT)


class PostingKind(StrEnum):
    ALLOCATION = "ALLOCATION"  # state budget -> program budget
    CARD_FUNDED = "CARD_FUNDED"  # program budget -> a new card's training balance
    PURCHASE = "PURCHASE"  # card -> the course's platform
    CARD_REVOKED = "CARD_REVOKED"  # card's unused balance -> State Treasury
    ENTITLEMENT = "ENTITLEMENT"  # program budget -> an applicant's incentive due
    PAYOUT_SENT = "PAYOUT_SENT"  # incentive due -> the payment partner, a transfer requested
    PAYOUT_PAID = "PAYOUT_PAID"  # payment partner -> paid out, the transfer confirmed
    PAYOUT_RETURNED = "PAYOUT_RETURNED"  # payment partner -> back to the incentive due, the transfer failed


@dataclass(frozen=True)
class Line:
    account: Account
    debit: int = 0
    credit: int = 0

    @property
    def amount(self) -> int:
        """Signed: what the line adds to the account's balance."""
        return self.debit - self.credit


@dataclass(frozen=True)
class Posting:
    posting_id: str
    kind: PostingKind
    reference: str  # the business object: a card number, a purchase id, a budget reference
    posted_at: datetime
    lines: tuple[Line, ...]

    def __post_init__(self) -> None:
        for line in self.lines:
            if min(line.debit, line.credit) < 0 or (line.debit > 0) == (line.credit > 0):
                raise UnbalancedPosting(f"{self.posting_id}: a line is a positive debit or a positive credit")
        if len(self.lines) < 2 or len({line.account for line in self.lines}) != len(self.lines):
            raise UnbalancedPosting(f"{self.posting_id}: two or more lines, each on its own account")
        if sum(line.debit for line in self.lines) != sum(line.credit for line in self.lines):
            raise UnbalancedPosting(f"{self.posting_id}: debits differ from credits")

    @property
    def amount(self) -> int:
        return sum(line.debit for line in self.lines)


def transfer(kind: PostingKind, reference: str, source: Account, target: Account, amount: int, at: datetime) -> Posting:
    return Posting(
        posting_id=f"{kind}#{reference}",
        kind=kind,
        reference=reference,
        posted_at=at,
        lines=(Line(target, debit=amount), Line(source, credit=amount)),
    )


def allocation(reference: str, amount: int, at: datetime) -> Posting:
    return transfer(PostingKind.ALLOCATION, reference, STATE_BUDGET, PROGRAM_BUDGET, amount, at)


def card_funded(card_number: str, amount: int, at: datetime) -> Posting:
    return transfer(PostingKind.CARD_FUNDED, card_number, PROGRAM_BUDGET, Account.card(card_number), amount, at)


def purchase(purchase_id: str, card_number: str, platform: str, price: int, at: datetime) -> Posting:
    return transfer(PostingKind.PURCHASE, purchase_id, Account.card(card_number), Account.platform(platform), price, at)


def card_revoked(card_number: str, unused_balance: int, at: datetime) -> Posting | None:
    """Nothing to post when the card has nothing left."""
    if unused_balance == 0:
        return None
    return transfer(PostingKind.CARD_REVOKED, card_number, Account.card(card_number), TREASURY, unused_balance, at)


# Incentives: each payout is entitled once; each transfer of it (one per attempt) is sent once
# and then either paid or returned once, so the ids below never repeat for another event.
def entitlement(payout_id: str, applicant_id: str, amount: int, at: datetime) -> Posting:
    return transfer(PostingKind.ENTITLEMENT, payout_id, PROGRAM_BUDGET, Account.incentive(applicant_id), amount, at)


def payout_sent(transfer_id: str, applicant_id: str, provider: str, amount: int, at: datetime) -> Posting:
    return transfer(
        PostingKind.PAYOUT_SENT,
        transfer_id,
        Account.incentive(applicant_id),
        Account.payment_partner(provider),
        amount,
        at,
    )


def payout_paid(transfer_id: str, provider: str, amount: int, at: datetime) -> Posting:
    return transfer(PostingKind.PAYOUT_PAID, transfer_id, Account.payment_partner(provider), PAID_OUT, amount, at)


def payout_returned(transfer_id: str, applicant_id: str, provider: str, amount: int, at: datetime) -> Posting:
    return transfer(
        PostingKind.PAYOUT_RETURNED,
        transfer_id,
        Account.payment_partner(provider),
        Account.incentive(applicant_id),
        amount,
        at,
    )
