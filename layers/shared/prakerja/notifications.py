"""Telling applicants what happened: outbox messages rendered as SMS (Indonesian).

Messages in the outbox carry ids and codes only; the phone number is decrypted from the
applicant's profile at send time and never stored or logged beside the message.

A stream delivers each message at least once, and a batch that fails or times out comes back
whole. So a message is claimed on the outbox item itself (a conditional write, not the stream's
image of it) before it is texted: only the delivery that won the claim sends, then records the
send; the others skip it (already sent) or hand it back to the stream (claimed by a delivery
still running). A claim lapses after NOTIFIER_CLAIM_LEASE_SECONDS, longer than the function
can run, so a message whose sender crashed is texted by a later retry.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Protocol

from prakerja.clock import WIB, Clock
from prakerja.notifier_limits import NOTIFIER_CLAIM_LEASE_SECONDS

CLAIM_LEASE = timedelta(seconds=NOTIFIER_CLAIM_LEASE_SECONDS)


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
    if message.kind == "COMPLAINT_ANSWERED":
        # Never the answer itself (it may quote personal data): only that there is one.
        return (
            f"Pengaduan Anda ({message.wave_id}) mendapat jawaban dari tim Prakerja. "
            "Baca jawabannya di akun Prakerja Anda."
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


class Claim(Enum):
    """What a delivery's attempt to claim a message found on the outbox item."""

    WON = "won"  # this delivery holds the message: it sends it
    SENT = "sent"  # already sent: nothing to do
    HELD = "held"  # another delivery's claim has not lapsed: it may be sending right now
    GONE = "gone"  # no such item (deleted): nothing to send


class Outbox(Protocol):
    def claim(self, message: OutboxMessage, claimant: str, at: datetime, until: datetime) -> Claim:
        """Claims the unsent message for ``claimant`` until ``until`` unless another claim is
        still running at ``at``; atomic, so of two deliveries at most one wins."""

    def release(self, message: OutboxMessage, claimant: str) -> bool:
        """Gives up ``claimant``'s claim on a message it did not send, so that a retry can;
        False if the claim is no longer its own (it lapsed and was taken) or it was sent."""

    def mark_sent(self, message: OutboxMessage, at: datetime) -> bool:
        """Records the send once; False if it was already recorded."""


class Delivery(Enum):
    SENT = "sent"
    UNRECORDED = "unrecorded"  # texted, but the send could not be recorded (not retried either)
    ALREADY_SENT = "already_sent"
    GONE = "gone"
    NO_PROFILE = "no_profile"

    @property
    def texted(self) -> bool:
        return self in (Delivery.SENT, Delivery.UNRECORDED)


class ClaimHeld(RuntimeError):
    """Another delivery holds the message's claim: handed back to the stream for a retry
    (never texted twice, never dropped)."""

    def __init__(self, message: OutboxMessage) -> None:
        super().__init__(f"{message.pk} {message.sk} is claimed by another delivery")


class Notifier:
    def __init__(
        self,
        phones: PhoneBook,
        sms: SmsSender,
        outbox: Outbox,
        clock: Clock,
        claimant: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._phones = phones
        self._sms = sms
        self._outbox = outbox
        self._clock = clock
        self._claimant = claimant

    def deliver(self, message: OutboxMessage) -> Delivery:
        """Texts one message unless it was already sent, once however often it is delivered.
        Raises ClaimHeld if another delivery holds it, and what failed before the SMS went out
        (the claim given back, so that the stream's retry sends it); never raises once it did."""
        if message.sent_at is not None:
            return Delivery.ALREADY_SENT  # our own update coming back on the stream
        claimant, now = self._claimant(), self._clock.now()
        claim = self._outbox.claim(message, claimant, now, now + CLAIM_LEASE)
        if claim is Claim.HELD:
            raise ClaimHeld(message)
        if claim is Claim.SENT:
            return Delivery.ALREADY_SENT
        if claim is Claim.GONE:
            return Delivery.GONE
        try:
            found = self._phones.phone_of(message.applicant_id)
            if found is None:
                self._release(message, claimant)
                return Delivery.NO_PROFILE
            phone, balance = found
            self._sms.send(to_e164(phone), render(message, balance))
        except Exception:
            self._release(message, claimant)
            raise
        # Texted: a failure from here on must not reach the stream, whose retry would text it again.
        try:
            recorded = self._outbox.mark_sent(message, self._clock.now())
        except Exception:
            recorded = False  # the claim stays until it lapses; the record is not retried
        return Delivery.SENT if recorded else Delivery.UNRECORDED

    def _release(self, message: OutboxMessage, claimant: str) -> None:
        # Best effort: a claim not given back lapses after the lease and the retry sends then.
        with contextlib.suppress(Exception):
            self._outbox.release(message, claimant)
