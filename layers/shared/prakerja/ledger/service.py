"""Ops views of the ledger: the report, one account's statement, budget allocations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from prakerja.clock import Clock
from prakerja.errors import Conflict, ValidationFailed
from prakerja.ledger import postings
from prakerja.ledger.postings import PER_PERSON, Account, Posting
from prakerja.ledger.report import BookTotal, LedgerReport, books, ledger_report
from prakerja.partners import PartnerDirectory

MAX_ALLOCATION = 1_000_000_000_000_000  # Rp 1,000 trillion: far above any year's budget


class LedgerBook(Protocol):
    def totals(self, books: Sequence[str]) -> dict[str, BookTotal]: ...

    def entries(self, account: Account, limit: int, next_token: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """A per-person account's entries, oldest first."""
        ...

    def post(self, posting: Posting) -> bool:
        """False when a posting with this id exists already."""
        ...


class AllocationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/\-]{2,63}$", description="e.g. the budget document")
    amount: int = Field(gt=0, le=MAX_ALLOCATION)


class AllocationPosted(BaseModel):
    posting_id: str
    amount: int


class Entry(BaseModel):
    posting_id: str
    kind: str
    posted_at: str
    debit: int
    credit: int
    balance_after: int | None = None


class AccountStatement(BaseModel):
    account: str
    debits: int
    credits: int
    balance: int = Field(description="Recomputed from the entries below")
    entries: list[Entry]


STATEMENT_PAGE = 200


class LedgerService:
    def __init__(self, book: LedgerBook, partners: PartnerDirectory, clock: Clock) -> None:
        self._book = book
        self._partners = partners
        self._clock = clock

    def report(self) -> LedgerReport:
        return ledger_report(self._book.totals(books(self._partners.platform_ids(), self._partners.payment_ids())))

    def statement(self, account_id: str) -> AccountStatement:
        try:
            account = Account.parse(account_id)
        except ValueError:
            raise ValidationFailed("ACCOUNT_UNKNOWN", f"{account_id} is not a ledger account.") from None
        if account.kind not in PER_PERSON:
            raise ValidationFailed(
                "ACCOUNT_TOTALS_ONLY", "Program-wide accounts are reported by their totals: GET /v1/ops/ledger."
            )
        entries: list[Entry] = []
        token: str | None = None
        while True:  # a card or an applicant has a handful of entries, never thousands
            page, token = self._book.entries(account, STATEMENT_PAGE, token)
            entries += [
                Entry(
                    posting_id=str(e["posting_id"]),
                    kind=str(e["kind"]),
                    posted_at=str(e["sk"]).split("#", 1)[0],
                    debit=int(e["debit"]),
                    credit=int(e["credit"]),
                    balance_after=int(e["balance_after"]) if "balance_after" in e else None,
                )
                for e in page
            ]
            if token is None:
                break
        debits = sum(e.debit for e in entries)
        credits = sum(e.credit for e in entries)
        return AccountStatement(
            account=account.id, debits=debits, credits=credits, balance=debits - credits, entries=entries
        )

    def allocate(self, request: AllocationRequest) -> AllocationPosted:
        posting = postings.allocation(request.reference, request.amount, self._clock.now())
        if not self._book.post(posting):
            raise Conflict("ALLOCATION_EXISTS", f"An allocation with reference {request.reference} was posted already.")
        return AllocationPosted(posting_id=posting.posting_id, amount=posting.amount)
