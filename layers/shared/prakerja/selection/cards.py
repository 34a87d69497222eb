"""Pre-employment cards: issued once in a lifetime to a selected participant.

A card number is 16 digits: the program prefix 9, 14 random digits from the OS's CSPRNG and a
Luhn check digit (catches a mistyped digit at a partner's till). 10^14 numbers for at most a
few tens of millions of cards: a guess hits an issued card about once in ten million tries,
and uniqueness is still enforced by a guard item at issue (duplicates are likely among
millions of random numbers: the birthday bound), never assumed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from prakerja.clock import WIB
from prakerja.program import Scheme

CARD_PREFIX = "9"
RANDOM_DIGITS = 14


def luhn_check_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        d = int(char)
        if position % 2 == 0:  # every second digit from the right, counting the one to add
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str(-total % 10)


def is_card_number(text: str) -> bool:
    return (
        len(text) == 1 + RANDOM_DIGITS + 1
        and text.isdigit()
        and text.startswith(CARD_PREFIX)
        and luhn_check_digit(text[:-1]) == text[-1]
    )


def new_card_number() -> str:
    body = CARD_PREFIX + "".join(secrets.choice("0123456789") for _ in range(RANDOM_DIGITS))
    return body + luhn_check_digit(body)


@dataclass(frozen=True)
class CardRecord:
    card_number: str
    scheme: str
    training_balance: int  # whole Rupiah left to spend on training
    purchase_deadline: datetime  # first purchase by then, or the card is revoked
    wave_id: str
    issued_at: datetime
    first_purchase_at: datetime | None = None  # a card used once is never revoked for the deadline
    revoked_at: datetime | None = None

    def past_deadline(self, now: datetime) -> bool:
        """Unused by the end of its deadline: the card is due for revocation."""
        return self.first_purchase_at is None and now > self.purchase_deadline


def purchase_deadline(closed_at: datetime, scheme: Scheme) -> datetime:
    """The end (23:59:59 WIB) of the scheme's last day for a first purchase, counted from the
    Jakarta date the wave closed: one deadline for a whole wave, whenever its cards are written."""
    last_day = closed_at.astimezone(WIB).date() + timedelta(days=scheme.first_purchase_deadline_days)
    return datetime.combine(last_day, time(23, 59, 59), tzinfo=WIB)


def issue_card(wave_id: str, scheme_name: str, scheme: Scheme, closed_at: datetime, now: datetime) -> CardRecord:
    return CardRecord(
        card_number=new_card_number(),  # replaced if already in use (see OutcomeWriter)
        scheme=scheme_name,
        training_balance=scheme.training_balance,
        purchase_deadline=purchase_deadline(closed_at, scheme),
        wave_id=wave_id,
        issued_at=now,
    )
