"""The program's partners (partners.json) and how their calls are authenticated.

A partner signs each call: ``X-Signature: sha256=<hex HMAC-SHA256(secret, "<X-Timestamp>.<raw
body>")>``. The body is inside the MAC, so a signature cannot be replayed with another body
(another voucher); the timestamp is inside too and must be within five minutes of now, so an
old request cannot be replayed later. The secret is per partner (Secrets Manager on AWS).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from prakerja.errors import Unauthorized

PARTNER_HEADER = "X-Partner-Id"
TIMESTAMP_HEADER = "X-Timestamp"
SIGNATURE_HEADER = "X-Signature"
SIGNATURE_WINDOW_SECONDS = 300


class PartnerKind(StrEnum):
    PLATFORM = "PLATFORM"  # training platforms: redeem vouchers, report completions
    PAYMENT = "PAYMENT"  # payment partners: confirm transfers


class Partner(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    partner_id: str = Field(pattern=r"^[A-Z0-9_]{2,32}$")
    name: str
    kind: PartnerKind
    type: str | None = None  # payment partners: BANK or EWALLET
    transfers_per_second: int | None = Field(default=None, ge=1)  # a payment partner's agreed rate limit


class PartnerDirectory:
    def __init__(self, partners: list[Partner]) -> None:
        self._partners = {p.partner_id: p for p in partners}

    def get(self, partner_id: str) -> Partner | None:
        return self._partners.get(partner_id)

    def of_kind(self, kind: PartnerKind) -> list[Partner]:
        return [p for p in self._partners.values() if p.kind == kind]

    def platform_ids(self) -> list[str]:
        return [p.partner_id for p in self.of_kind(PartnerKind.PLATFORM)]

    def payment_ids(self) -> list[str]:
        return [p.partner_id for p in self.of_kind(PartnerKind.PAYMENT)]

    def transfer_rates(self) -> dict[str, int]:
        return {p.partner_id: p.transfers_per_second for p in self if p.transfers_per_second}

    def __iter__(self) -> Iterator[Partner]:
        return iter(self._partners.values())


@cache
def load_partners() -> PartnerDirectory:
    raw = json.loads(resources.files("prakerja").joinpath("partners.json").read_text(encoding="utf-8"))
    return PartnerDirectory(
        [Partner(kind=PartnerKind.PLATFORM, **p) for p in raw["platforms"]]
        + [Partner(kind=PartnerKind.PAYMENT, **p) for p in raw["payment"]]
    )


class PartnerSecrets(Protocol):
    def secret_of(self, partner_id: str) -> bytes | None: ...


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def authenticate(
    directory: PartnerDirectory,
    secrets: PartnerSecrets,
    headers: dict[str, str],
    body: bytes,
    now: datetime,
) -> Partner:
    """The partner that signed this request, or Unauthorized (401) saying why. Headers are
    looked up case-insensitively (API Gateway keeps the client's case)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    partner_id = lowered.get(PARTNER_HEADER.lower(), "")
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    signature = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not (partner_id and timestamp and signature):
        raise Unauthorized(
            "SIGNATURE_MISSING", f"Partner calls carry {PARTNER_HEADER}, {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}."
        )
    partner = directory.get(partner_id)
    secret = secrets.secret_of(partner_id) if partner is not None else None
    if partner is None or secret is None:
        raise Unauthorized("SIGNATURE_INVALID", "The signature does not match.")  # unknown ids leak nothing
    if not timestamp.isdigit() or abs(now.timestamp() - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
        raise Unauthorized(
            "SIGNATURE_EXPIRED", f"{TIMESTAMP_HEADER} must be unix seconds within {SIGNATURE_WINDOW_SECONDS} s of now."
        )
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise Unauthorized("SIGNATURE_INVALID", "The signature does not match.")
    return partner
