"""The DynamoDB keys, byte for byte: stored items are found by them, so a change to one is a
data migration, never a refactoring (prakerja.adapters.keys)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from prakerja.adapters import keys


@pytest.mark.parametrize(
    ("built", "stored"),
    [
        # The applicants table.
        (keys.profile("a-1"), {"pk": "APPLICANT#a-1", "sk": "PROFILE"}),
        (keys.account_guard("sub-1"), {"pk": "ACCOUNT#sub-1", "sk": "GUARD"}),
        (keys.nik_guard("h1"), {"pk": "NIK#h1", "sk": "GUARD"}),
        (keys.card_guard("5123"), {"pk": "CARD#5123", "sk": "GUARD"}),
        (keys.voucher_guard("V-9"), {"pk": "VOUCHER#V-9", "sk": "GUARD"}),
        (keys.kk_slots("k1"), {"pk": "KK#k1", "sk": "SLOTS"}),
        (keys.purchase("a-1", "p-2"), {"pk": "APPLICANT#a-1", "sk": "PURCHASE#p-2"}),
        (keys.training("t-3"), {"pk": "CATALOG", "sk": "TRAINING#t-3"}),
        # The outbox table.
        (keys.outbox("a-1", "WAVE_RESULT", "w-1"), {"pk": "APPLICANT#a-1", "sk": "WAVE_RESULT#w-1"}),
        # The waves table.
        (keys.wave("w-1"), {"pk": "WAVE#w-1", "sk": "META"}),
        (keys.wave_listing("2024-01-02T03:04:05+00:00", "w-1"), {"pk": "WAVES", "sk": "2024-01-02T03:04:05+00:00#w-1"}),
        (keys.join_counter("w-1", 7), {"pk": "WAVE#w-1#C#07", "sk": "JOINED"}),
        # The ledger table.
        (keys.posting("PURCHASE#p-2"), {"pk": "POSTING#PURCHASE#p-2", "sk": "POSTING"}),
        (
            keys.entry("CARD:5123", "2024-01-02T03:04:05+00:00", "PURCHASE#p-2"),
            {"pk": "ENTRY#CARD:5123", "sk": "2024-01-02T03:04:05+00:00#PURCHASE#p-2"},
        ),
        (keys.book_total("CARD", 5), {"pk": "TOTAL#CARD#005", "sk": "TOTAL"}),
        # The payouts table.
        (keys.payout_account("a-1"), {"pk": "APPLICANT#a-1", "sk": "ACCOUNT"}),
        (keys.payout("a-1", "po-1"), {"pk": "APPLICANT#a-1", "sk": "PAYOUT#po-1"}),
        (keys.payout_hold("a-1"), {"pk": "APPLICANT#a-1", "sk": "HOLD"}),
        (keys.survey_response("a-1", "s-1"), {"pk": "APPLICANT#a-1", "sk": "SURVEY#s-1"}),
        (keys.transfer_guard("tr-1"), {"pk": "TRANSFER#tr-1", "sk": "GUARD"}),
        (keys.rate_counter("OVO", 1700000000), {"pk": "RATE#OVO#1700000000", "sk": "RATE"}),
        # The cases table: ops actions.
        (keys.action("act-1"), {"pk": "ACTION#act-1", "sk": "ACTION"}),
        (
            keys.applicant_action("a-1", "2024-01-02T03:04:05+00:00", "act-1"),
            {"pk": "APPLICANT#a-1", "sk": "ACTION#2024-01-02T03:04:05+00:00#act-1"},
        ),
        # The attempts table.
        (
            keys.attempt_counter("REGISTRATION#sub-1#1700000000"),
            {"pk": "ATTEMPT#REGISTRATION#sub-1#1700000000", "sk": "COUNT"},
        ),
        # The cases table: complaint tickets.
        (keys.ticket("tkt-1"), {"pk": "TICKET#tkt-1", "sk": "TICKET"}),
        (keys.ticket_update("tkt-1", 12), {"pk": "TICKET#tkt-1", "sk": "UPDATE#00012"}),
        (
            keys.account_ticket("sub-1", "2026-12-07T22:10:00.000000Z#tkt-1"),
            {"pk": "ACCOUNT#sub-1#TICKETS", "sk": "2026-12-07T22:10:00.000000Z#tkt-1"},
        ),
    ],
)
def test_a_key_is_the_one_stored_items_have(built: keys.Key, stored: keys.Key) -> None:
    assert built == stored


@pytest.mark.parametrize(
    ("built", "stored"),
    [
        (keys.applicant_partition("a-1"), "APPLICANT#a-1"),
        (keys.cards_due_partition("w-1", 3), "w-1#03"),
        (keys.pending_since("2024-01-02T03:04:05+00:00", "act-1"), "2024-01-02T03:04:05+00:00#act-1"),
        (keys.participants_partition("w-1", 63), "WAVE#w-1#P#63"),
        (keys.entry_partition("CARD:5123"), "ENTRY#CARD:5123"),
        (keys.settlement_partition("OVO", date(2024, 1, 2), 4), "SETTLED#OVO#2024-01-02#04"),
        (keys.payout_queue(9), "Q#09"),
        (keys.ticket_partition("tkt-1"), "TICKET#tkt-1"),
        (keys.account_tickets_partition("sub-1"), "ACCOUNT#sub-1#TICKETS"),
        (keys.complaint_queue_partition("OPEN", "PAYMENT"), "OPEN#PAYMENT"),
        (
            keys.complaint_queue_position(datetime(2026, 12, 7, 22, 10, 5, 42, tzinfo=UTC), "tkt-1"),
            "2026-12-07T22:10:05.000042Z#tkt-1",
        ),
        # Fixed width in UTC whatever the zone it was given in: text order is time order.
        (
            keys.queue_time(datetime(2026, 12, 8, 5, 10, tzinfo=timezone(timedelta(hours=7)))),
            "2026-12-07T22:10:00.000000Z",
        ),
    ],
)
def test_a_partition_is_the_one_stored_items_have(built: str, stored: str) -> None:
    assert built == stored


def test_ids_read_back_from_keys() -> None:
    assert keys.applicant_of(keys.profile("a-1")["pk"]) == "a-1"
    assert keys.payout_of(keys.payout("a-1", "po-1")["sk"]) == "po-1"
    assert keys.book_of_total(keys.book_total("PAYMENT_PARTNER:OVO", 12)["pk"]) == "PAYMENT_PARTNER:OVO"
