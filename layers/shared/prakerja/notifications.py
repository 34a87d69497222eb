"""Telling applicants what happened: outbox messages rendered as SMS (Indonesian).

Messages in the outbox carry ids and codes only; the phone number is decrypted from the
applicant's profile at send time and never stored or logged beside the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from prakerja.clock import WIB, Clock


@dataclass(frozen=True)
class OutboxMessage:
    pk: str
    sk: str
    kind: str
    applicant_id: str
    wave_id: str
    status: str
    reasons: tuple[str, ...] = ()
    purchase_deadline: datetime | None = None
    sent_at: str | None = None

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> OutboxMessage:
        deadline = item.get("purchase_deadline")
        return cls(
            pk=str(item["pk"]),
            sk=str(item["sk"]),
            kind=str(item["kind"]),
            applicant_id=str(item["applicant_id"]),
            wave_id=str(item["wave_id"]),
            status=str(item["status"]),
            reasons=tuple(str(r) for r in item.get("reasons", [])),
            purchase_deadline=datetime.fromisoformat(str(deadline)) if deadline else None,
            sent_at=str(item["sent_at"]) if item.get("sent_at") else None,
        )


class UnknownMessage(ValueError):
    """A message kind or status this notifier cannot render."""


def rupiah(amount: int) -> str:
    return "Rp" + f"{amount:,}".replace(",", ".")


def render(message: OutboxMessage, training_balance: int | None = None) -> str:
    if message.kind == "CARD_REVOKED":
        return (
            f"Kartu Prakerja Anda ({message.wave_id}) dicabut karena belum ada pembelian pelatihan pertama "
            "sampai batas waktu. Sisa saldo pelatihan dikembalikan ke kas negara."
        )
    if message.kind != "WAVE_RESULT":
        raise UnknownMessage(message.kind)
    if message.status == "SELECTED":
        deadline = message.purchase_deadline.astimezone(WIB).strftime("%d-%m-%Y") if message.purchase_deadline else "-"
        balance = f" Saldo pelatihan {rupiah(training_balance)}." if training_balance else ""
        return (
            f"Selamat! Anda lolos seleksi Kartu Prakerja ({message.wave_id}).{balance} "
            f"Beli pelatihan pertama paling lambat {deadline} WIB, atau kartu dicabut."
        )
    if message.status == "NOT_SELECTED":
        return (
            f"Anda belum terpilih di {message.wave_id}. Silakan bergabung kembali di gelombang berikutnya "
            "melalui akun Prakerja Anda."
        )
    if message.status == "REJECTED":
        return (
            f"Anda tidak memenuhi syarat pada {message.wave_id} (kode: {', '.join(message.reasons) or '-'}). "
            "Lihat rinciannya di akun Prakerja Anda."
        )
    raise UnknownMessage(message.status)


def to_e164(phone: str) -> str:
    """Indonesian mobile numbers as registered (08..., 628..., +628...) in E.164 (+628...)."""
    digits = phone.removeprefix("+")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    if not (digits.startswith("628") and digits.isdigit() and 10 <= len(digits) <= 15):
        raise ValueError("not an Indonesian mobile number")
    return "+" + digits


class PhoneBook(Protocol):
    def phone_of(self, applicant_id: str) -> tuple[str, int | None] | None:
        """The applicant's phone and card balance (if any); None if there is no profile."""


class SmsSender(Protocol):
    def send(self, phone_e164: str, text: str) -> None: ...


class Outbox(Protocol):
    def mark_sent(self, message: OutboxMessage, at: datetime) -> bool:
        """Records the send once; False if it was already recorded."""


class Notifier:
    def __init__(self, phones: PhoneBook, sms: SmsSender, outbox: Outbox, clock: Clock) -> None:
        self._phones = phones
        self._sms = sms
        self._outbox = outbox
        self._clock = clock

    def deliver(self, message: OutboxMessage) -> bool:
        """Sends one message unless already sent; True if an SMS went out. A stream delivers at
        least once, so a message may rarely be texted twice (after a crash between the send and
        the mark); it is never lost, which matters more for a deadline."""
        if message.sent_at is not None:
            return False  # our own update coming back on the stream
        found = self._phones.phone_of(message.applicant_id)
        if found is None:
            return False
        phone, balance = found
        self._sms.send(to_e164(phone), render(message, balance))
        self._outbox.mark_sent(message, self._clock.now())
        return True
