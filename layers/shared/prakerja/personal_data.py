"""Masking and keyed hashing of personal data (NIK, KK, names, phones, account numbers).

Masks are for display and logs; hashes are for lookups (duplicate NIKs, KK counts, exclusion
lists) without storing the number in clear.
"""

from __future__ import annotations

import hashlib
import hmac

_MASK = "*"
_MIN_KEY_BYTES = 16  # NIKs are guessable (~10^10 plausible values): the key must not be.


def _mask_middle(value: str, head: int, tail: int) -> str:
    # Too short to hide anything after showing head and tail: hide it all.
    if len(value) <= head + tail:
        return _MASK * len(value)
    return value[:head] + _MASK * (len(value) - head - tail) + value[len(value) - tail :]


def mask_nik(nik: str) -> str:
    """Only the province and the serial stay readable: 3201234567890001 -> 32**********0001."""
    return _mask_middle(nik, 2, 4)


def mask_kk(kk_number: str) -> str:
    return _mask_middle(kk_number, 2, 4)


def mask_name(full_name: str) -> str:
    """Each word keeps its first letter: "Budi Santoso" -> "B*** S******"."""
    return " ".join(word[:1] + _MASK * (len(word) - 1) for word in full_name.split(" "))


def mask_phone(phone: str) -> str:
    """Country code, operator prefix and the last 3 digits stay: +6281234567890 -> +62812*****890
    (and 081234567890 -> 0812*****890)."""
    return _mask_middle(phone, 6 if phone.startswith("+") else 4, 3)


def mask_account_number(account_number: str) -> str:
    """Bank or e-wallet account number with only its last 4 characters visible."""
    return _mask_middle(account_number, 0, 4)


class PersonalDataHasher:
    """Keyed, deterministic hashes of personal data: equal inputs give equal digests, so they
    can be indexed and compared, but without the key nobody can test guesses against them.

    ``digest`` is ``"<key_id>:<hex HMAC-SHA256(key, kind + ':' + value)>"``.
    The ``kind`` ("nik", "kk", ...) is part of the message so that a KK number and a NIK with
    the same digits never collide. The ``key_id`` prefix makes key rotation possible: digests
    made under an old key stay valid and identifiable under their key id, a reader hashes with
    the key the stored digest names, and a rotation re-hashes each record from its encrypted
    copy under the new key at its own pace.
    """

    def __init__(self, key: bytes, key_id: str) -> None:
        if len(key) < _MIN_KEY_BYTES:
            raise ValueError(f"hashing key must be at least {_MIN_KEY_BYTES} bytes")
        if not key_id or ":" in key_id:
            raise ValueError("key_id must be non-empty and contain no ':'")
        self._key = key
        self.key_id = key_id

    def digest(self, kind: str, value: str) -> str:
        # A ':' in kind would let ("a:b", "c") and ("a", "b:c") produce the same message.
        if not kind or ":" in kind:
            raise ValueError("kind must be non-empty and contain no ':'")
        mac = hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256)
        return f"{self.key_id}:{mac.hexdigest()}"

    def __repr__(self) -> str:  # never show the key in logs or tracebacks
        return f"PersonalDataHasher(key_id={self.key_id!r})"


def digest_key_id(digest: str) -> str:
    """The key id a digest was made with, to pick the right key after a rotation."""
    key_id, separator, _ = digest.partition(":")
    if not separator:
        raise ValueError("not a personal data digest")
    return key_id
