"""Postings always balance; accounts parse back; the report says where the money is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from prakerja.ledger import postings
from prakerja.ledger.postings import Account, Line, Posting, PostingKind, UnbalancedPosting
from prakerja.ledger.report import BookTotal, books, ledger_report

AT = datetime(2026, 11, 23, tzinfo=UTC)


def test_a_transfer_debits_the_target_and_credits_the_source() -> None:
    posting = postings.purchase("pur-1", "9000000000000001", "TOKOPEDIA", 350_000, AT)
    assert posting.posting_id == "PURCHASE#pur-1"
    assert {line.account.id: line.amount for line in posting.lines} == {
        "PLATFORM:TOKOPEDIA": 350_000,
        "CARD:9000000000000001": -350_000,
    }


@pytest.mark.parametrize(
    "lines",
    [
        (Line(postings.PROGRAM_BUDGET, debit=10), Line(postings.TREASURY, credit=9)),  # unbalanced
        (Line(postings.PROGRAM_BUDGET, debit=10),),  # one line
        (Line(postings.PROGRAM_BUDGET, debit=10, credit=10), Line(postings.TREASURY)),  # both sides, neither
        (Line(postings.PROGRAM_BUDGET, debit=-5), Line(postings.TREASURY, credit=-5)),  # negative
        (Line(postings.TREASURY, debit=5), Line(postings.TREASURY, credit=5)),  # one account twice
    ],
)
def test_malformed_postings_cannot_be_built(lines: tuple[Line, ...]) -> None:
    with pytest.raises(UnbalancedPosting):
        Posting("X#1", PostingKind.ALLOCATION, "1", AT, lines)


def test_accounts_need_an_owner_exactly_when_their_kind_has_one() -> None:
    assert Account.parse("CARD:9000000000000001") == Account.card("9000000000000001")
    assert Account.parse("TREASURY") == postings.TREASURY
    for text in ("CARD", "TREASURY:x", "NOPE", "CARD:a:b"):
        with pytest.raises(ValueError):
            Account.parse(text)


def test_a_revoked_card_with_nothing_left_posts_nothing() -> None:
    assert postings.card_revoked("9000000000000001", 0, AT) is None
    returned = postings.card_revoked("9000000000000001", 650_000, AT)
    assert returned is not None and returned.amount == 650_000


def test_per_person_accounts_are_totalled_per_kind_and_partners_each() -> None:
    assert Account.card("9000000000000001").book == "CARD"
    assert Account.platform("PINTARIA").book == "PLATFORM:PINTARIA"
    assert "PAYMENT_PARTNER:BNI" in books(["PINTARIA"], ["BNI"])


def test_the_report_follows_money_from_the_state_budget_to_where_it_went() -> None:
    totals: dict[str, BookTotal] = {}
    for posting in [
        postings.allocation("APBN-1", 10_000_000, AT),
        postings.card_funded("9000000000000001", 3_500_000, AT),
        postings.card_funded("9000000000000002", 3_500_000, AT),
        postings.purchase("pur-1", "9000000000000001", "PINTARIA", 1_000_000, AT),
        postings.card_revoked("9000000000000002", 3_500_000, AT),
    ]:
        assert posting is not None
        for line in posting.lines:
            totals[line.account.book] = totals.get(line.account.book, BookTotal()) + BookTotal(line.debit, line.credit)
    report = ledger_report(totals)
    assert (report.budget, report.available, report.committed, report.disbursed, report.returned) == (
        10_000_000,
        3_000_000,
        2_500_000,
        1_000_000,
        3_500_000,
    )
    assert report.balanced and report.debits == report.credits == 21_500_000
    assert report.imbalance == 0
    assert {a.account: a.balance for a in report.accounts}["CARD"] == 2_500_000


def test_the_imbalance_is_the_absolute_difference_and_stays_out_of_the_report() -> None:
    short = ledger_report({"STATE_BUDGET": BookTotal(0, 1_000), "PROGRAM_BUDGET": BookTotal(900, 0)})
    over = ledger_report({"STATE_BUDGET": BookTotal(0, 1_000), "PROGRAM_BUDGET": BookTotal(1_250, 0)})
    assert (short.balanced, short.imbalance) == (False, 100)
    assert (over.balanced, over.imbalance) == (False, 250)
    assert "imbalance" not in short.model_dump()  # GET /v1/ops/ledger answers as documented
