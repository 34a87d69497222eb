"""Outbox messages rendered and texted once, however often the stream delivers them, without
personal data in the message."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest

from prakerja.clock import WIB
from prakerja.notifications import (
    CLAIM_LEASE,
    Claim,
    ClaimHeld,
    Delivery,
    Notifier,
    OutboxMessage,
    UnknownMessage,
    render,
    rupiah,
    to_e164,
)
from prakerja.notifier_limits import NOTIFIER_BATCH_SIZE, NOTIFIER_CLAIM_LEASE_SECONDS, NOTIFIER_TIMEOUT_SECONDS
from tests.fakes import FakeOutbox, FixedClock

SELECTED = OutboxMessage(
    pk="APPLICANT#a-1",
    sk="WAVE_RESULT#wave-1",
    kind="WAVE_RESULT",
    applicant_id="a-1",
    wave_id="wave-1",
    status="SELECTED",
    purchase_deadline=datetime(2026, 12, 7, 23, 59, 59, tzinfo=WIB),
)


@dataclass
class Phones:
    book: dict[str, tuple[str, int | None]] = field(default_factory=dict)

    def phone_of(self, applicant_id: str) -> tuple[str, int | None] | None:
        return self.book.get(applicant_id)


@dataclass
class Texts:
    sent: list[tuple[str, str]] = field(default_factory=list)
    failing: bool = False
    before_send: Callable[[], object] = lambda: None

    def send(self, phone_e164: str, text: str) -> None:
        self.before_send()
        if self.failing:
            raise ConnectionError("SMS gateway down")
        self.sent.append((phone_e164, text))


def test_texts_for_each_outcome() -> None:
    selected = render(SELECTED, 3_500_000)
    assert "lolos seleksi" in selected and "Rp3.500.000" in selected and "07-12-2026" in selected
    assert "bergabung kembali" in render(replace(SELECTED, status="NOT_SELECTED"))
    rejected = render(replace(SELECTED, status="REJECTED", reasons=("EXCLUDED_OCCUPATION",)))
    assert "EXCLUDED_OCCUPATION" in rejected
    with pytest.raises(UnknownMessage):
        render(replace(SELECTED, kind="PAYOUT"))
    assert rupiah(600_000) == "Rp600.000"


def test_a_ticket_answer_is_texted_without_the_answer() -> None:
    """The answer may quote a NIK or a name: the SMS only says there is one, and where to read it."""
    answered = replace(SELECTED, kind="COMPLAINT_ANSWERED", wave_id="tkt-0123", status="RESOLVED")
    text = render(answered, 3_500_000)
    assert "tkt-0123" in text and "jawaban" in text
    assert "Rp" not in text


@pytest.mark.parametrize(
    ("phone", "e164"),
    [("081234567890", "+6281234567890"), ("6281234567890", "+6281234567890"), ("+6281234567890", "+6281234567890")],
)
def test_phones_in_e164(phone: str, e164: str) -> None:
    assert to_e164(phone) == e164


@pytest.mark.parametrize("phone", ["021555123", "+6521234567", "08abc"])
def test_numbers_that_are_not_indonesian_mobiles_are_refused(phone: str) -> None:
    with pytest.raises(ValueError, match="mobile"):
        to_e164(phone)


def notifier_with(texts: Texts, outbox: FakeOutbox, clock: FixedClock | None = None) -> Notifier:
    return Notifier(Phones({"a-1": ("081234567890", 3_500_000)}), texts, outbox, clock or FixedClock())


def test_a_message_is_texted_and_marked_once() -> None:
    texts, outbox = Texts(), FakeOutbox(SELECTED)
    notifier = notifier_with(texts, outbox)
    assert notifier.deliver(SELECTED) is Delivery.SENT
    assert texts.sent[0][0] == "+6281234567890" and "Rp3.500.000" in texts.sent[0][1]
    assert "081234567890" not in texts.sent[0][1]  # the number is the address, never the content
    assert outbox.entry(SELECTED).sent_at == FixedClock().now()
    # The update marking it sent comes back on the stream: not texted again.
    assert notifier.deliver(replace(SELECTED, sent_at="2026-11-22T03:00:00+00:00")) is Delivery.ALREADY_SENT
    assert len(texts.sent) == 1


def test_a_message_already_sent_is_not_texted_though_its_stream_image_says_unsent() -> None:
    """A retried batch brings the INSERT image back (no sent_at): the item itself is read."""
    texts, outbox = Texts(), FakeOutbox(SELECTED)
    outbox.entry(SELECTED).sent_at = FixedClock().now()
    assert notifier_with(texts, outbox).deliver(SELECTED) is Delivery.ALREADY_SENT
    assert texts.sent == []


def test_a_batch_delivered_twice_texts_each_message_once() -> None:
    other = replace(SELECTED, pk="APPLICANT#a-2", sk="WAVE_RESULT#wave-1", applicant_id="a-2")
    texts, outbox, clock = Texts(), FakeOutbox(SELECTED, other), FixedClock()
    phones = Phones({"a-1": ("081234567890", None), "a-2": ("081234567891", None)})
    notifier = Notifier(phones, texts, outbox, clock)
    assert [notifier.deliver(m) for m in (SELECTED, other)] == [Delivery.SENT, Delivery.SENT]
    clock.advance(seconds=NOTIFIER_CLAIM_LEASE_SECONDS * 10)  # however late the retry comes
    assert [notifier.deliver(m) for m in (SELECTED, other)] == [Delivery.ALREADY_SENT] * 2
    assert sorted(phone for phone, _ in texts.sent) == ["+6281234567890", "+6281234567891"]


def test_of_two_concurrent_deliveries_only_the_claim_winner_texts() -> None:
    sending, go = threading.Event(), threading.Event()

    def hold_the_line() -> None:
        sending.set()
        go.wait(5)

    texts = Texts(before_send=hold_the_line)
    outbox = FakeOutbox(SELECTED)
    notifier = notifier_with(texts, outbox)
    first: list[Delivery] = []
    worker = threading.Thread(target=lambda: first.append(notifier.deliver(SELECTED)))
    worker.start()
    assert sending.wait(5)  # the first delivery holds the claim and is texting
    with pytest.raises(ClaimHeld):
        notifier.deliver(SELECTED)  # the second: handed back to the stream
    go.set()
    worker.join(5)
    assert first == [Delivery.SENT] and len(texts.sent) == 1
    assert notifier.deliver(SELECTED) is Delivery.ALREADY_SENT  # the stream's retry of the second
    assert len(texts.sent) == 1


def test_a_message_claimed_by_another_live_delivery_is_handed_back_untouched() -> None:
    texts, outbox, clock = Texts(), FakeOutbox(SELECTED), FixedClock()
    assert outbox.claim(SELECTED, "other", clock.now(), clock.now() + CLAIM_LEASE) is Claim.WON
    clock.advance(seconds=NOTIFIER_TIMEOUT_SECONDS)  # the other can be running no longer than this
    with pytest.raises(ClaimHeld):
        notifier_with(texts, outbox, clock).deliver(SELECTED)
    assert texts.sent == []
    assert outbox.entry(SELECTED).claimed_by == "other" and outbox.released == []  # its claim, left alone


def test_a_lapsed_claim_is_taken_and_the_message_texted_once() -> None:
    """The sender that claimed it crashed (or timed out) before texting: a later retry sends."""
    texts, outbox, clock = Texts(), FakeOutbox(SELECTED), FixedClock()
    outbox.claim(SELECTED, "crashed", clock.now(), clock.now() + CLAIM_LEASE)
    clock.advance(seconds=NOTIFIER_CLAIM_LEASE_SECONDS - 1)
    notifier = notifier_with(texts, outbox, clock)
    with pytest.raises(ClaimHeld):
        notifier.deliver(SELECTED)
    clock.advance(seconds=1)
    assert notifier.deliver(SELECTED) is Delivery.SENT
    assert notifier.deliver(SELECTED) is Delivery.ALREADY_SENT
    assert len(texts.sent) == 1


def test_the_message_is_texted_under_a_claim_of_the_lease_from_the_delivery() -> None:
    outbox, clock = FakeOutbox(SELECTED), FixedClock()
    seen: list[tuple[str | None, int | None]] = []
    texts = Texts(
        before_send=lambda: seen.append((outbox.entry(SELECTED).claimed_by, outbox.entry(SELECTED).claim_expires_at))
    )
    notifier = Notifier(Phones({"a-1": ("081234567890", None)}), texts, outbox, clock, claimant=lambda: "me")
    assert notifier.deliver(SELECTED) is Delivery.SENT
    assert seen == [("me", int(clock.now().timestamp()) + NOTIFIER_CLAIM_LEASE_SECONDS)]


def test_a_failed_send_gives_the_claim_back_so_the_retry_texts_it_once() -> None:
    texts, outbox = Texts(failing=True), FakeOutbox(SELECTED)
    notifier = Notifier(Phones({"a-1": ("081234567890", None)}), texts, outbox, FixedClock(), claimant=lambda: "c-1")
    with pytest.raises(ConnectionError):
        notifier.deliver(SELECTED)  # reported: the record is retried
    entry = outbox.entry(SELECTED)
    assert outbox.released == ["c-1"] and entry.claimed_by is None and entry.sent_at is None
    texts.failing = False
    assert notifier.deliver(SELECTED) is Delivery.SENT  # the retry, at once: not kept off by a lease
    assert notifier.deliver(SELECTED) is Delivery.ALREADY_SENT
    assert len(texts.sent) == 1


def test_a_message_that_cannot_be_rendered_gives_its_claim_back() -> None:
    outbox = FakeOutbox(SELECTED)
    with pytest.raises(UnknownMessage):
        notifier_with(Texts(), outbox).deliver(replace(SELECTED, kind="PAYOUT"))
    assert outbox.entry(SELECTED).claimed_by is None and len(outbox.released) == 1


def test_a_send_that_cannot_be_recorded_is_not_reported_for_a_retry() -> None:
    """Once texted, a failure would bring the record back and text it again: never two."""

    class Unrecordable(FakeOutbox):
        def mark_sent(self, message: OutboxMessage, at: datetime) -> bool:
            raise ConnectionError("DynamoDB unavailable")

    texts, outbox = Texts(), Unrecordable(SELECTED)
    assert notifier_with(texts, outbox).deliver(SELECTED) is Delivery.UNRECORDED
    assert len(texts.sent) == 1 and outbox.released == []  # the claim holds until it lapses


def test_a_message_for_a_missing_profile_is_dropped() -> None:
    texts, outbox = Texts(), FakeOutbox(SELECTED)
    assert Notifier(Phones(), texts, outbox, FixedClock()).deliver(SELECTED) is Delivery.NO_PROFILE
    assert texts.sent == [] and outbox.entry(SELECTED).claimed_by is None


def test_a_message_no_longer_in_the_outbox_is_not_texted() -> None:
    texts = Texts()
    assert notifier_with(texts, FakeOutbox()).deliver(SELECTED) is Delivery.GONE
    assert texts.sent == []


def test_the_lease_outlasts_any_invocation_holding_a_claim() -> None:
    assert NOTIFIER_CLAIM_LEASE_SECONDS > NOTIFIER_TIMEOUT_SECONDS
    assert timedelta(seconds=NOTIFIER_TIMEOUT_SECONDS) < CLAIM_LEASE
    assert (NOTIFIER_BATCH_SIZE, NOTIFIER_TIMEOUT_SECONDS) == (10, 30)
