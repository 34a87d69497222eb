"""HTTP adapter for the payment partners (BNI, OVO, GoPay, LinkAja, DANA).

Each partner is reached at ``{base_url}/{provider}``; every request is signed like the
partners sign theirs to us: ``X-Timestamp`` and ``X-Signature: sha256=<HMAC of
"<timestamp>.<body>">`` with the partner's shared secret, so a partner can tell our calls
from forgeries. Contract:

- ``POST /accounts/inquiry`` ``{account_type, account_number, nik, full_name}`` ->
  ``{status: VALID}`` or ``{status: INVALID, reason}``.
- ``POST /transfers`` ``{transfer_id, account_number, amount, description}`` -> 202 (or 200
  for a transfer id it has already) ``{transfer_id, reference, status, failure_code}``; the
  transfer id is the idempotency key. The outcome comes later by callback.
- ``GET /transfers/{transfer_id}`` -> the transfer as it stands, or 404.

Timeouts, connection errors, 429 and 5xx raise PartnerUnavailable: the outcome is unknown
and the caller asks again with the same transfer id.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from prakerja.partners import PartnerSecrets, sign
from prakerja.payouts.models import AccountStatus, AccountType, Provider, TransferAnswer, TransferState
from prakerja.payouts.ports import AccountCheck, PartnerUnavailable, TransferRequest

CLIENT_ID = "prakerja"


class PartnerMisbehaved(PartnerUnavailable):
    """An answer outside the contract (4xx other than 404/429, or a body we cannot read): as
    unknown an outcome as no answer, so the same id is asked again, but under its own name,
    which the workflow does not retry: the payout waits, visible, for a later run."""


class HttpPaymentPartners:
    def __init__(self, base_url: str, secrets: PartnerSecrets, timeout_seconds: float = 10.0) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("the payment partners' URL must be http(s)")
        self._base = base_url.rstrip("/")
        self._secrets = secrets
        self._timeout = timeout_seconds

    def check_account(
        self, provider: Provider, account_type: AccountType, account_number: str, nik: str, full_name: str
    ) -> AccountCheck:
        body = {"account_type": str(account_type), "account_number": account_number, "nik": nik, "full_name": full_name}
        status, answer = self._call(provider, "POST", "/accounts/inquiry", body)
        if status != 200 or answer.get("status") not in ("VALID", "INVALID"):
            raise PartnerMisbehaved(f"{provider} inquiry answered {status}")
        return AccountCheck(AccountStatus(answer["status"]), answer.get("reason"))

    def transfer(self, request: TransferRequest) -> TransferAnswer:
        body = {
            "transfer_id": request.transfer_id,
            "account_number": request.account_number,
            "amount": request.amount,
            "description": "Insentif Kartu Prakerja",
        }
        status, answer = self._call(request.provider, "POST", "/transfers", body)
        if status not in (200, 202):
            raise PartnerMisbehaved(f"{request.provider} transfer answered {status}")
        return _transfer_answer(answer)

    def status(self, provider: Provider, transfer_id: str) -> TransferAnswer | None:
        status, answer = self._call(provider, "GET", f"/transfers/{transfer_id}", None)
        if status == 404:
            return None
        if status != 200:
            raise PartnerMisbehaved(f"{provider} status answered {status}")
        return _transfer_answer(answer)

    def _call(self, provider: Provider, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        secret = self._secrets.secret_of(str(provider))
        if secret is None:
            raise PartnerMisbehaved(f"no shared secret for {provider}")
        raw = json.dumps(body).encode() if body is not None else b""
        timestamp = str(int(time.time()))  # real time: the partner checks it against its own clock
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            f"{self._base}/{provider}{path}",
            data=raw if body is not None else None,
            method=method,
            headers={
                "Content-Type": "application/json",
                "X-Client-Id": CLIENT_ID,
                "X-Timestamp": timestamp,
                "X-Signature": sign(secret, timestamp, raw),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            if error.code == 429 or error.code >= 500:
                raise PartnerUnavailable(f"{provider} answered {error.code}") from None
            if error.code == 404:
                return 404, {}
            raise PartnerMisbehaved(f"{provider} answered {error.code}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise PartnerUnavailable(f"{provider}: {type(error).__name__}") from None
        except ValueError:
            raise PartnerMisbehaved(f"{provider} answered something other than JSON") from None


def _transfer_answer(answer: dict[str, Any]) -> TransferAnswer:
    settled = answer.get("settled_at")
    return TransferAnswer(
        state=TransferState(answer["status"]),
        reference=answer.get("reference"),
        failure_code=answer.get("failure_code"),
        settled_at=datetime.fromisoformat(settled.replace("Z", "+00:00")) if settled else None,
    )
