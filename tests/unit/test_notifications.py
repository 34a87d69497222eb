"""Outbox messages rendered and texted once, without personal data in the message."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

import pytest

from prakerja.clock import WIB
from prakerja.notifications import Notifier, OutboxMessage, UnknownMessage, render, rupiah, to_e164
from tests.fakes import FixedClock

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

    def send(self, phone_e164: str, text: str) -> None:
        if self.failing:
            raise ConnectionError("SMS gateway down")
        self.sent.append((phone_e164, text))


@dataclass
class Outbox:
    marked: list[str] = field(default_factory=list)

    def mark_sent(self, message: OutboxMessage, at: datetime) -> bool:
        if message.sk in self.marked:
            return False
        self.marked.append(message.sk)
        return True


def test_texts_for_each_outcome() -> None:
    selected = render(SELECTED, 3_500_000)
    assert "lolos seleksi" in selected and "Rp3.500.000" in selected and "07-12-2026" in selected
    assert "bergabung kembali" in render(replace(SELECTED, status="NOT_SELECTED"))
    rejected = render(replace(SELECTED, status="REJECTED", reasons=("EXCLUDED_OCCUPATION",)))
    assert "EXCLUDED_OCCUPATION" in rejected
    with pytest.raises(UnknownMessage):
        render(replace(SELECTED, kind="PAYOUT"))
    assert rupiah(600_000) == "Rp600.000"


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


def test_a_message_is_texted_and_marked_once() -> None:
    texts, outbox = Texts(), Outbox()
    notifier = Notifier(Phones({"a-1": ("081234567890", 3_500_000)}), texts, outbox, FixedClock())
    assert notifier.deliver(SELECTED)
    assert texts.sent[0][0] == "+6281234567890" and "Rp3.500.000" in texts.sent[0][1]
    assert "081234567890" not in texts.sent[0][1]  # the number is the address, never the content
    assert outbox.marked == ["WAVE_RESULT#wave-1"]
    # The update marking it sent comes back on the stream: not texted again.
    assert not notifier.deliver(replace(SELECTED, sent_at="2026-11-22T03:00:00+00:00"))
    assert len(texts.sent) == 1


def test_a_failed_send_is_not_marked_so_the_stream_retries_it() -> None:
    texts, outbox = Texts(failing=True), Outbox()
    notifier = Notifier(Phones({"a-1": ("081234567890", None)}), texts, outbox, FixedClock())
    with pytest.raises(ConnectionError):
        notifier.deliver(SELECTED)
    assert outbox.marked == []


def test_a_message_for_a_missing_profile_is_dropped() -> None:
    texts = Texts()
    assert not Notifier(Phones(), texts, Outbox(), FixedClock()).deliver(SELECTED)
    assert texts.sent == []
