"""The steps of a program cycle, each through the public, applicant, partner or ops API as its
real caller would make it. Every request is counted by route template (for docs/cost.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from loadtest.program import passing_answers, wave_request
from tools.simulation.population import Applicant

_TIMEOUT = 120
_IDS = re.compile(r"/(?=[^/]*\d)[0-9A-Za-z_-]{12,}(?=/|$)")  # ids in paths, for route templates


class ApiError(Exception):
    """An answer the simulation did not expect: it stops the run (the system misbehaved)."""


@dataclass
class Outcome:
    """What happened to one applicant, as the API told it."""

    applicant: Applicant
    token: str = ""
    registered: int = 0  # the registration's HTTP status
    registration_code: str | None = None  # the problem's code when it was refused
    applicant_id: str | None = None
    status: str | None = None  # the applicant status last read
    reasons: list[str] = field(default_factory=list)
    joined: bool = False
    purchase_id: str | None = None
    redeemed: bool = False
    completed: bool = False
    reviewed: bool = False
    account_status: str | None = None
    payouts: list[dict[str, Any]] = field(default_factory=list)


class Api:
    """A thread-safe client of the API: one HTTP session per thread, requests counted."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._local = threading.local()
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self._secrets: dict[str, bytes] = {}
        self._partners_lock = threading.Lock()

    def call(
        self, method: str, path: str, token: str | None = None, *, body: Any = None, ok: tuple[int, ...] = (200,)
    ) -> Any:
        status, answer = self.status_of(method, path, token, body)
        if status not in ok:
            raise ApiError(f"{method} {path}: {status} {str(answer)[:300]}")
        return answer

    def status_of(self, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, Any]:
        """The status and body, for calls whose refusal is an outcome to record."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None if body is None else json.dumps(body).encode()
        return self._exchange(method, path, headers, data)

    def partner(self, partner_id: str, path: str, body: dict[str, Any]) -> Any:
        """A platform's call, signed as API.md says: HMAC-SHA256 of "<timestamp>.<raw body>"."""
        raw = json.dumps(body).encode()
        stamp = str(int(time.time()))
        mac = hmac.new(self._secret(partner_id), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        headers = {"X-Partner-Id": partner_id, "X-Timestamp": stamp, "X-Signature": f"sha256={mac}"}
        status, answer = self._exchange("POST", path, headers, raw)
        if status != 200:
            raise ApiError(f"POST {path} as {partner_id}: {status} {str(answer)[:300]}")
        return answer

    def _exchange(self, method: str, path: str, headers: dict[str, str], data: bytes | None) -> tuple[int, Any]:
        if data is not None:
            headers = headers | {"Content-Type": "application/json"}
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        for _ in range(20):
            answer = session.request(method, f"{self.url}{path}", headers=headers, data=data, timeout=_TIMEOUT)
            self._count(method, path)
            if answer.status_code != 429:  # a limit's Retry-After is honoured, as a client should
                break
            time.sleep(float(answer.headers.get("Retry-After", "1")))
        return answer.status_code, answer.json() if answer.content else None

    def _secret(self, partner_id: str) -> bytes:
        with self._partners_lock:  # read once, whichever thread asks first
            if not self._secrets:
                partners = self.call("GET", "/_local/partners")
                self._secrets.update({p["partner_id"]: str(p["secret"]).encode() for p in partners})
        return self._secrets[partner_id]

    def token(self, email: str, groups: list[str] | None = None) -> str:
        return str(self.call("POST", "/_local/tokens", body={"email": email, "groups": groups or []})["token"])

    def _count(self, method: str, path: str) -> None:
        route = f"{method} {_IDS.sub('/{id}', path.split('?', 1)[0])}"
        with self._lock:
            self.requests[route] += 1


def register(api: Api, outcome: Outcome) -> None:
    """Signs up (a token from the local user pool) and registers; a refusal is recorded."""
    applicant = outcome.applicant
    outcome.token = api.token(applicant.person.account_email)
    status, body = api.status_of("POST", "/v1/applicants", outcome.token, applicant.person.registration())
    outcome.registered = status
    if status == 201:
        outcome.applicant_id = str(body["applicant_id"])
        outcome.status = "VERIFYING"
    elif 400 <= status < 500:
        outcome.registration_code = str((body or {}).get("code"))
    else:
        raise ApiError(f"POST /v1/applicants: {status} {body}")


def await_decision(api: Api, outcome: Outcome, timeout: float = 900) -> None:
    """Polls GET /me, backing off, until the registration workflow has decided."""
    pause, deadline = 0.5, time.monotonic() + timeout
    while outcome.status == "VERIFYING":
        time.sleep(pause)
        me = api.call("GET", "/v1/applicants/me", outcome.token)
        outcome.status, outcome.reasons = str(me["status"]), list(me.get("reasons") or [])
        pause = min(pause * 1.5, 4.0)
        if time.monotonic() > deadline:
            raise ApiError(f"no decision on {outcome.applicant_id} in {timeout:.0f} s")


def join(api: Api, outcome: Outcome, wave_id: str) -> None:
    api.call("POST", "/v1/applicants/me/assessment", outcome.token, body=passing_answers())
    api.call("POST", f"/v1/waves/{wave_id}/join", outcome.token)
    outcome.joined = True


def read_status(api: Api, outcome: Outcome) -> None:
    outcome.status = str(api.call("GET", "/v1/applicants/me", outcome.token)["status"])


def train(api: Api, outcome: Outcome, courses: list[dict[str, Any]], now: datetime) -> None:
    """Buys a course the card can pay for; the platform redeems and completes it; a review."""
    behaviour = outcome.applicant.behaviour
    if not behaviour.buys:
        return
    course = courses[outcome.applicant.index % len(courses)]
    bought = api.call("POST", "/v1/purchases", outcome.token, body={"training_id": course["training_id"]}, ok=(201,))
    outcome.purchase_id = str(bought["purchase_id"])
    voucher = {"voucher_code": bought["voucher_code"]}
    if not behaviour.platform_redeems:
        return
    api.partner(course["platform"], "/v1/partner/redemptions", voucher)
    outcome.redeemed = True
    if not behaviour.completes:
        return
    completed_at = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
    completion = voucher | {"completed_at": completed_at, "certificate_id": f"SRT-{voucher['voucher_code']}"}
    api.partner(course["platform"], "/v1/partner/completions", completion)
    outcome.completed = True
    api.call("POST", f"/v1/purchases/{outcome.purchase_id}/review", outcome.token, body={"rating": 5})
    outcome.reviewed = True


def link_account(api: Api, outcome: Outcome) -> None:
    behaviour = outcome.applicant.behaviour
    if not behaviour.links_account:
        return
    account = {
        "type": "BANK" if behaviour.provider == "BNI" else "EWALLET",
        "provider": behaviour.provider,
        "account_number": behaviour.account_number,
    }
    linked = api.call("PUT", "/v1/applicants/me/payout-account", outcome.token, body=account, ok=(202,))
    outcome.account_status = str(linked["status"])


def read_payouts(api: Api, outcome: Outcome) -> None:
    outcome.payouts = list(api.call("GET", "/v1/applicants/me/payouts", outcome.token)["items"])


def open_wave(api: Api, ops: str, seed: str, quota_total: int, quotas: dict[str, int]) -> str:
    wave = wave_request("Gelombang simulasi", seed, quota_total, quotas)
    return str(api.call("POST", "/v1/ops/waves", ops, body=wave, ok=(201,))["wave_id"])
