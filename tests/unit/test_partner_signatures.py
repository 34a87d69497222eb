"""Partner calls are signed: HMAC-SHA256 of "<timestamp>.<raw body>" with the partner's secret,
within five minutes of now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from prakerja.errors import Unauthorized
from prakerja.partners import PartnerKind, authenticate, load_partners, sign

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SECRETS = {"PINTARIA": b"pintaria-secret", "BNI": b"bni-secret"}


class Secrets:
    def secret_of(self, partner_id: str) -> bytes | None:
        return SECRETS.get(partner_id)


def headers(partner: str, body: bytes, *, secret: bytes | None = None, at: datetime = NOW) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    return {
        "X-Partner-Id": partner,
        "X-Timestamp": timestamp,
        "X-Signature": sign(secret or SECRETS[partner], timestamp, body),
    }


def check(request_headers: dict[str, str], body: bytes) -> str:
    try:
        return authenticate(load_partners(), Secrets(), request_headers, body, NOW).partner_id
    except Unauthorized as refused:
        return refused.code


BODY = b'{"voucher_code": "AAAA-BBBB-CCCC-DDDD"}'


def test_a_correctly_signed_call_names_its_partner() -> None:
    assert check(headers("PINTARIA", BODY), BODY) == "PINTARIA"
    lowercase = {k.lower(): v for k, v in headers("PINTARIA", BODY).items()}  # header names keep no case
    assert check(lowercase, BODY) == "PINTARIA"
    assert load_partners().get("BNI").kind is PartnerKind.PAYMENT  # type: ignore[union-attr]


def test_a_signature_made_with_another_secret_is_refused() -> None:
    assert check(headers("PINTARIA", BODY, secret=b"guessed"), BODY) == "SIGNATURE_INVALID"
    assert check(headers("PINTARIA", BODY, secret=SECRETS["BNI"]), BODY) == "SIGNATURE_INVALID"


def test_a_signature_cannot_be_replayed_with_another_body() -> None:
    other = b'{"voucher_code": "ZZZZ-BBBB-CCCC-DDDD"}'
    assert check(headers("PINTARIA", BODY), other) == "SIGNATURE_INVALID"


@pytest.mark.parametrize("age", [timedelta(seconds=301), timedelta(seconds=-301), timedelta(days=1)])
def test_a_stale_or_future_timestamp_is_refused(age: timedelta) -> None:
    assert check(headers("PINTARIA", BODY, at=NOW - age), BODY) == "SIGNATURE_EXPIRED"


def test_within_the_window_either_way_is_accepted() -> None:
    assert check(headers("PINTARIA", BODY, at=NOW - timedelta(seconds=299)), BODY) == "PINTARIA"
    assert check(headers("PINTARIA", BODY, at=NOW + timedelta(seconds=299)), BODY) == "PINTARIA"


def test_missing_headers_and_unknown_partners_are_refused_alike() -> None:
    signed = headers("PINTARIA", BODY)
    for missing in signed:
        assert check({k: v for k, v in signed.items() if k != missing}, BODY) == "SIGNATURE_MISSING"
    assert check({**signed, "X-Partner-Id": "NOBODY"}, BODY) == "SIGNATURE_INVALID"
    assert check({**signed, "X-Timestamp": "soon"}, BODY) == "SIGNATURE_EXPIRED"
