"""Masking and keyed hashing of personal data (NIK, KK, names, phones, account numbers).

Masks are for display and logs; hashes are for lookups (duplicate NIKs, KK counts, exclusion
lists) without storing the number in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

_MASK = "*"
_MIN_KEY_BYTES = 16  # NIKs are guessable (~10^10 plausible values): the key must not be.
BARE_KEY_ID = "k1"  # the id of a secret that is one bare key (the format before rotation)


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
    the same digits never collide. The ``key_id`` prefix says which key of a
    :class:`HashingKeyring` made a stored digest.
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


class HashingKeyring:
    """Every hashing key in use, one of them current (docs/personal-data.md, "Rotating the
    hashing key"): new records are identified by their digest under the current key, and a
    lookup computes the digest under every key, so records written before a rotation are still
    found. Claims and list entries are written under every key, so that a record identified under
    any key of the ring is found by a lookup with its single stored digest."""

    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError("the current key must be one of the keys")
        # Current first: digests()[0] is digest(); the others in a stable order.
        order = [current, *sorted(k for k in keys if k != current)]
        self._hashers = tuple(PersonalDataHasher(keys[key_id], key_id) for key_id in order)

    @classmethod
    def single(cls, key: bytes, key_id: str = BARE_KEY_ID) -> HashingKeyring:
        return cls({key_id: key}, key_id)

    @classmethod
    def from_secret(cls, secret: str) -> HashingKeyring:
        """The keyring a secret describes: a bare key (id ``k1``, the format before rotation) or
        ``{"current": "k2", "keys": {"k1": "...", "k2": "..."}}``. Generated keys have no
        punctuation, so a secret starting with "{" is JSON or a mistake, never a key."""
        if not secret.lstrip().startswith("{"):
            return cls.single(secret.encode())
        try:
            document = json.loads(secret)
        except ValueError:
            raise ValueError("the hashing secret looks like JSON but does not parse") from None
        current, keys = document.get("current"), document.get("keys")
        if not (
            isinstance(current, str)
            and isinstance(keys, dict)
            and keys
            and all(isinstance(k, str) and isinstance(v, str) for k, v in keys.items())
        ):
            raise ValueError('the hashing secret must be {"current": "<key id>", "keys": {"<key id>": "<key>"}}')
        return cls({key_id: key.encode() for key_id, key in keys.items()}, current)

    @property
    def current(self) -> str:
        return self._hashers[0].key_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(h.key_id for h in self._hashers)

    def digest(self, kind: str, value: str) -> str:
        """Under the current key: what identifies a new record."""
        return self._hashers[0].digest(kind, value)

    def digests(self, kind: str, value: str) -> tuple[str, ...]:
        """Under every key, the current one first: what a lookup or a claim uses."""
        return tuple(h.digest(kind, value) for h in self._hashers)

    def __repr__(self) -> str:  # never show a key
        return f"HashingKeyring(current={self.current!r}, key_ids={self.key_ids!r})"
