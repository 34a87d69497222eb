"""`GET /v1/ops/ledger`: where the program's money is, from the ledger's running totals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, Field

from prakerja.ledger.postings import AccountKind


@dataclass(frozen=True)
class BookTotal:
    debits: int = 0
    credits: int = 0

    def __add__(self, other: BookTotal) -> BookTotal:
        return BookTotal(self.debits + other.debits, self.credits + other.credits)

    @property
    def balance(self) -> int:
        return self.debits - self.credits


class AccountTotals(BaseModel):
    account: str = Field(description="An account, or a kind of per-person account (CARD, INCENTIVE) as a whole")
    debits: int
    credits: int
    balance: int = Field(description="Debits minus credits")


class LedgerReport(BaseModel):
    budget: int = Field(description="Allocated to the program from the state budget")
    available: int = Field(description="Allocated and not yet committed")
    committed: int = Field(description="On cards and incentives due, not yet spent or paid")
    in_transit: int = Field(description="Sent to payment partners, not yet confirmed paid")
    disbursed: int = Field(description="Paid to training platforms and into applicants' accounts")
    returned: int = Field(description="Unused card balances returned to the State Treasury")
    debits: int
    credits: int
    balanced: bool = Field(description="Debits equal credits: every rupiah is accounted for")
    accounts: list[AccountTotals]

    @property
    def imbalance(self) -> int:
        """Rupiah by which debits and credits differ, 0 when the books balance (a metric, not
        part of the report's JSON)."""
        return abs(self.debits - self.credits)


def _kind(book: str) -> AccountKind:
    return AccountKind(book.partition(":")[0])


def ledger_report(totals: Mapping[str, BookTotal]) -> LedgerReport:
    def balance_of(*kinds: AccountKind) -> int:
        return sum(t.balance for book, t in totals.items() if _kind(book) in kinds)

    debits = sum(t.debits for t in totals.values())
    credits = sum(t.credits for t in totals.values())
    return LedgerReport(
        budget=-balance_of(AccountKind.STATE_BUDGET),
        available=balance_of(AccountKind.PROGRAM_BUDGET),
        committed=balance_of(AccountKind.CARD, AccountKind.INCENTIVE),
        in_transit=balance_of(AccountKind.PAYMENT_PARTNER),
        disbursed=balance_of(AccountKind.PLATFORM, AccountKind.PAID_OUT),
        returned=balance_of(AccountKind.TREASURY),
        debits=debits,
        credits=credits,
        balanced=debits == credits,
        accounts=[
            AccountTotals(account=book, debits=t.debits, credits=t.credits, balance=t.balance)
            for book, t in sorted(totals.items())
        ],
    )


def books(platforms: Iterable[str], payment_partners: Iterable[str]) -> list[str]:
    """Every book the ledger can have: the program-wide accounts, the per-person kinds, and one
    per platform and payment partner (partners are configuration, so this list is complete)."""
    single = [
        AccountKind.STATE_BUDGET,
        AccountKind.PROGRAM_BUDGET,
        AccountKind.CARD,
        AccountKind.INCENTIVE,
        AccountKind.PAID_OUT,
        AccountKind.TREASURY,
    ]
    return (
        [str(kind) for kind in single]
        + [f"{AccountKind.PLATFORM}:{p}" for p in platforms]
        + [f"{AccountKind.PAYMENT_PARTNER}:{p}" for p in payment_partners]
    )
