"""The simulated payment partners (BNI, OVO, GOPAY, LINKAJA, DANA) that pay the cash incentives.

Held in memory by the runtime; the functions reach a partner at `$PAYMENT_PARTNERS_URL/<PROVIDER>/...`
as they reach the partner's own API on AWS. A transfer completes on a background thread and is
announced by a signed callback to `/v1/partner/payments/<transfer_id>/callback`, as a real
partner's is. `POST /_local/payment-faults` makes a partner fail or go silent, reproducibly with a
seed, so that retries and reconciliation can be tested.

Bodies carry account numbers, NIKs and names: they are never logged.
"""

from __future__ import annotations

import csv
import heapq
import hmac
import io
import itertools
import json
import logging
import random
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn
from urllib.parse import quote

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from localcloud.local_routes import BadRequest, _is_iso_date, _json_object, json_response, problem
from prakerja.partners import (
    PARTNER_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_WINDOW_SECONDS,
    TIMESTAMP_HEADER,
    PartnerKind,
    load_partners,
    sign,
)

LOG = logging.getLogger("localcloud.payments")

CLIENT_HEADER = "X-Client-Id"
CLIENT_ID = "prakerja"  # who we are to the partners
ALL_PROVIDERS = "*"
# provider -> BANK or EWALLET, from the program's partner list
PROVIDER_TYPES: dict[str, str] = {p.partner_id: p.type or "BANK" for p in load_partners().of_kind(PartnerKind.PAYMENT)}
# Account numbers the partners refuse (API.md): every other one belongs to its applicant.
_PREFIX_FAILURES = (("000", "ACCOUNT_NOT_FOUND"), ("999", "NAME_MISMATCH"))
# What a partner answers when it refuses a transfer to an existing account.
_FAILURE_CODES = {
    "BANK": ("ACCOUNT_INACTIVE", "ACCOUNT_BLOCKED"),
    "EWALLET": ("ACCOUNT_INACTIVE", "WALLET_NOT_UPGRADED", "WALLET_LIMIT_EXCEEDED"),
}
_TRANSFER_ID = re.compile(r"^[A-Za-z0-9._-]{1,80}$")
_ACCOUNT_NUMBER = re.compile(r"^\S{1,64}$")
_NIK = re.compile(r"^\d{16}$")
_ROUTES = Map(
    [
        Rule("/_local/payment-partners/<provider>/accounts/inquiry", methods=["POST"], endpoint="inquiry"),
        Rule("/_local/payment-partners/<provider>/transfers", methods=["POST"], endpoint="transfer"),
        Rule("/_local/payment-partners/<provider>/transfers/<transfer_id>", methods=["GET"], endpoint="status"),
        Rule("/_local/payment-partners/<provider>/settlement-report", methods=["POST"], endpoint="settlement"),
    ]
)

SendCallback = Callable[[str, str, bytes, dict[str, str]], None]
"""(provider, transfer_id, body, headers): delivers one completion callback to our API."""
PutReport = Callable[[str, bytes], str | None]
"""(key, body) -> the bucket the settlement file went to; None when there is no payouts bucket."""


@dataclass
class _Faults:
    fail_rate: float = 0.0
    timeout_rate: float = 0.0
    duplicate_rate: float = 0.0
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random)

    def draw(self, rate: float) -> bool:
        return self.rng.random() < rate

    def settings(self, provider: str) -> dict[str, Any]:
        return {
            "provider": provider,
            "fail_rate": self.fail_rate,
            "timeout_rate": self.timeout_rate,
            "duplicate_rate": self.duplicate_rate,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class _Fate:
    """How the partner treats a new transfer request, decided when it arrives."""

    answer: int  # 202 accepted, 503 not recorded, 504 recorded but the answer is lost
    failure_code: str | None  # the transfer completes FAILED with it (None: SUCCESS)
    callbacks: int  # sent on completion: 0 (went silent), 1, or 2 (a duplicate delivery)


@dataclass
class _Transfer:
    provider: str
    transfer_id: str
    reference: str
    account_number: str
    amount: int
    description: str | None
    fate: _Fate
    status: str = "PENDING"
    failure_code: str | None = None
    settled_at: str | None = None
    callbacks_sent: int = 0

    def view(self) -> dict[str, Any]:
        """What the partner tells us about it (repeats and status queries)."""
        return {
            "transfer_id": self.transfer_id,
            "reference": self.reference,
            "status": self.status,
            "failure_code": self.failure_code,
            "amount": self.amount,
            "settled_at": self.settled_at,
        }


class PaymentPartners:
    """The five partners' APIs, their transfers, and their fault switches.

    `secrets()` gives each provider's signing secret (read once, when first needed);
    `now()` is the program clock, for `settled_at`; `send_callback` delivers the completion
    callbacks; `put_report` stores settlement files. `wall()` is real time, for signatures.
    """

    def __init__(
        self,
        secrets: Callable[[], dict[str, bytes]],
        now: Callable[[], datetime],
        send_callback: SendCallback,
        put_report: PutReport | None = None,
        *,
        completion_delay: tuple[float, float] = (0.05, 0.2),
        workers: int = 4,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._load_secrets = secrets
        self._now = now
        self._send_callback = send_callback
        self._put_report = put_report
        self._delay = completion_delay
        self._wall = wall
        self._secrets: dict[str, bytes] | None = None
        self._secrets_lock = threading.Lock()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._faults = {provider: _Faults() for provider in PROVIDER_TYPES}
        self._transfers: dict[tuple[str, str], _Transfer] = {}
        self._due: list[tuple[float, int, _Transfer]] = []  # a heap of completion times
        self._sequence = itertools.count()  # breaks ties in the heap: transfers do not compare
        self._in_flight = 0  # completions taken from the heap whose callbacks are being sent
        self._timing = random.Random()  # noqa: S311 - delays only; faults draw from their own seeded RNG
        self._closed = False
        self._workers = [
            threading.Thread(target=self._work, name=f"payment-partner-{i}", daemon=True) for i in range(workers)
        ]
        for worker in self._workers:
            worker.start()

    # -- Python API for tests ----------------------------------------------------------------
    def set_faults(
        self,
        provider: str,
        fail_rate: float = 0.0,
        timeout_rate: float = 0.0,
        *,
        duplicate_rate: float = 0.0,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """What `POST /_local/payment-faults` does; `provider` "*" sets all five. A seed restarts
        the provider's random draws, so the same requests meet the same faults."""
        settings = {
            "provider": provider,
            "fail_rate": fail_rate,
            "timeout_rate": timeout_rate,
            "duplicate_rate": duplicate_rate,
            "seed": seed,
        }
        errors = _fault_errors(settings)
        if errors:
            raise ValueError("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        providers = list(PROVIDER_TYPES) if provider == ALL_PROVIDERS else [provider]
        with self._lock:
            for name in providers:
                faults = self._faults[name]
                faults.fail_rate, faults.timeout_rate, faults.duplicate_rate = fail_rate, timeout_rate, duplicate_rate
                if seed is not None:
                    faults.seed, faults.rng = seed, random.Random(seed)  # noqa: S311 - reproducible faults
        return settings

    def transfers(self, provider: str | None = None) -> list[dict[str, Any]]:
        """Every transfer recorded (of one provider), in arrival order."""
        with self._lock:
            return [
                {
                    "provider": t.provider,
                    "account_number": t.account_number,
                    "description": t.description,
                    "callbacks_sent": t.callbacks_sent,
                    **t.view(),
                }
                for t in self._transfers.values()
                if provider is None or t.provider == provider
            ]

    def paid_amounts(self) -> dict[str, int]:
        """account_number -> what its owner received (SUCCESS transfers, all providers)."""
        paid: dict[str, int] = {}
        with self._lock:
            for transfer in self._transfers.values():
                if transfer.status == "SUCCESS":
                    paid[transfer.account_number] = paid.get(transfer.account_number, 0) + transfer.amount
        return paid

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Until every accepted transfer has completed and its callbacks went out."""
        with self._changed:
            if not self._changed.wait_for(lambda: not self._due and self._in_flight == 0, timeout):
                raise TimeoutError(f"{len(self._due) + self._in_flight} payment completions pending after {timeout} s")

    def reset(self) -> None:
        """Forgets every transfer (pending ones never complete) and every fault setting."""
        with self._changed:
            self._transfers.clear()
            self._due.clear()
            self._faults = {provider: _Faults() for provider in PROVIDER_TYPES}
            self._changed.notify_all()

    def settlement_csv(self, provider: str, day: str) -> tuple[bytes, int]:
        """The provider's settlement file for a UTC day (YYYY-MM-DD) and its number of transfers."""
        with self._lock:
            settled = sorted(
                (t for t in self._transfers.values() if t.provider == provider and t.status == "SUCCESS"),
                key=lambda t: t.transfer_id,
            )
            rows = [
                [t.transfer_id, t.reference, t.amount, t.status, t.settled_at]
                for t in settled
                if (t.settled_at or "").startswith(f"{day}T")
            ]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["transfer_id", "reference", "amount", "status", "settled_at"])
        writer.writerows(rows)
        return out.getvalue().encode(), len(rows)

    def close(self) -> None:
        """Stops the background threads; pending transfers stay PENDING. Safe to call twice."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        for worker in self._workers:
            if worker is not threading.current_thread():
                worker.join(timeout=2)

    # -- HTTP: served by LocalRoutes ------------------------------------------------------------
    def faults_route(self, request: Request) -> Response:
        """`POST /_local/payment-faults`."""
        body = _json_object(request)
        settings = {
            "provider": body.get("provider"),
            "fail_rate": body.get("fail_rate"),
            "timeout_rate": body.get("timeout_rate"),
            "duplicate_rate": body.get("duplicate_rate", 0),
            "seed": body.get("seed"),
        }
        errors = _fault_errors(settings)
        if errors:
            _invalid(errors)
        return json_response(self.set_faults(**settings))

    def partner_route(self, request: Request) -> Response:
        """Everything under `/_local/payment-partners/<PROVIDER>/`."""
        matched = _match(request)
        if isinstance(matched, Response):
            return matched
        endpoint, args = matched
        provider = str(args["provider"])
        if provider not in PROVIDER_TYPES:
            return problem(404, "PROVIDER_UNKNOWN", "Not found", "No such payment partner.")
        handlers: dict[str, Callable[[], Response]] = {
            "inquiry": lambda: self._inquiry(request, provider),
            "transfer": lambda: self._transfer(request, provider),
            "status": lambda: self._status(provider, str(args.get("transfer_id"))),
            "settlement": lambda: self._settlement(request, provider),
        }
        # The settlement report is a test's or a person's trigger, not a call of ours: unsigned.
        refused = None if endpoint == "settlement" else self._authenticate(request, provider)
        return handlers[endpoint]() if refused is None else refused

    def _authenticate(self, request: Request, provider: str) -> Response | None:
        """None when the call is ours, recent, and signed with this provider's secret; else the 401."""
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        secret = self._secret_of(provider)
        body = request.get_data(cache=True)  # cached: the handler reads it again
        valid = (
            request.headers.get(CLIENT_HEADER) == CLIENT_ID
            and secret is not None
            and timestamp.isdigit()
            and abs(self._wall() - int(timestamp)) <= SIGNATURE_WINDOW_SECONDS
            and hmac.compare_digest(sign(secret, timestamp, body), signature)
        )
        if valid:
            return None
        detail = (
            f"Calls carry {CLIENT_HEADER}: {CLIENT_ID}, {TIMESTAMP_HEADER} (unix seconds, within "
            f"{SIGNATURE_WINDOW_SECONDS} s) and {SIGNATURE_HEADER} made with this partner's secret."
        )
        return problem(401, "SIGNATURE_INVALID", "Unauthorized", detail)

    def _inquiry(self, request: Request, provider: str) -> Response:
        body = _json_object(request)
        errors = [
            *_check(body, "account_type", lambda v: v in _FAILURE_CODES, '"BANK" or "EWALLET"'),
            *_check(body, "account_number", _is_account_number, "an account number"),
            *_check(body, "nik", lambda v: isinstance(v, str) and bool(_NIK.match(v)), "16 digits"),
            *_check(body, "full_name", lambda v: isinstance(v, str) and bool(v.strip()), "a name"),
        ]
        if errors:
            _invalid(errors)
        with self._lock:
            faults = self._faults[provider]
            unavailable, timed_out = faults.draw(faults.fail_rate), faults.draw(faults.timeout_rate)
        if unavailable:
            return _unavailable()
        if timed_out:
            return _timed_out()
        reason = _prefix_failure(str(body["account_number"]))
        return json_response({"status": "VALID"} if reason is None else {"status": "INVALID", "reason": reason})

    def _transfer(self, request: Request, provider: str) -> Response:
        body = _json_object(request)
        errors = [
            *_check(body, "transfer_id", lambda v: isinstance(v, str) and bool(_TRANSFER_ID.match(v)), _ID_RULE),
            *_check(body, "account_number", _is_account_number, "an account number"),
            *_check(body, "amount", lambda v: _is_int(v) and v > 0, "whole rupiah, more than 0"),
            *_check(body, "description", lambda v: v is None or isinstance(v, str), "a text", required=False),
        ]
        if errors:
            _invalid(errors)
        transfer_id, account_number, amount = str(body["transfer_id"]), str(body["account_number"]), body["amount"]
        with self._changed:
            existing = self._transfers.get((provider, transfer_id))
            if existing is not None:
                return self._repeat(existing, account_number, amount)
            fate = self._fate(provider, account_number)
            if fate.answer == 503:
                return _unavailable()  # not recorded: safe to retry with the same id
            transfer = _Transfer(
                provider,
                transfer_id,
                f"{provider}-{uuid.uuid4().hex[:12].upper()}",
                account_number,
                amount,
                body.get("description"),
                fate,
            )
            self._transfers[(provider, transfer_id)] = transfer
            self._schedule(transfer)
        if fate.answer == 504:
            return _timed_out()
        return json_response({"transfer_id": transfer_id, "reference": transfer.reference, "status": "PENDING"}, 202)

    def _repeat(self, existing: _Transfer, account_number: str, amount: int) -> Response:
        """A transfer_id seen before: the same order is answered as it stands, never paid again."""
        if (existing.account_number, existing.amount) != (account_number, amount):
            detail = "This transfer_id was used for another account or amount."
            return problem(409, "TRANSFER_ID_REUSED", "Conflict", detail)
        return json_response(existing.view())

    def _status(self, provider: str, transfer_id: str) -> Response:
        with self._lock:
            faults = self._faults[provider]
            if faults.draw(faults.fail_rate):
                return _unavailable()
            transfer = self._transfers.get((provider, transfer_id))
            view = transfer.view() if transfer is not None else None
        if view is None:
            return problem(404, "TRANSFER_NOT_FOUND", "Not found", "The partner has no such transfer.")
        return json_response(view)

    def _settlement(self, request: Request, provider: str) -> Response:
        body = _json_object(request) if request.get_data(cache=True) else {}
        day = body.get("date")
        if day is None:
            day = _utc(self._now()).date().isoformat()
        elif not isinstance(day, str) or not _is_iso_date(day):
            _invalid([{"field": "date", "message": "a date, YYYY-MM-DD"}])
        report, lines = self.settlement_csv(provider, day)
        key = f"settlements/{provider}/{day}.csv"
        bucket = self._put_report(key, report) if self._put_report is not None else None
        if bucket is None:
            return problem(501, "NO_PAYOUTS_BUCKET", "Not available", "The template has no payouts bucket.")
        return json_response({"provider": provider, "bucket": bucket, "key": key, "lines": lines}, 201)

    # -- transfers' fates and completion -----------------------------------------------------------
    def _fate(self, provider: str, account_number: str) -> _Fate:
        """Draws the faults of a new transfer (under the lock). Every draw is made whatever the
        outcome, so a seed gives the same faults to the same sequence of requests."""
        faults = self._faults[provider]
        failing, silent, duplicated = (
            faults.draw(rate) for rate in (faults.fail_rate, faults.timeout_rate, faults.duplicate_rate)
        )
        refused_outright = faults.rng.random() < 0.5
        partner_code = faults.rng.choice(_FAILURE_CODES[PROVIDER_TYPES[provider]])
        answer_lost = faults.rng.random() < 0.5
        if failing and refused_outright:
            return _Fate(503, None, 0)
        failure_code = _prefix_failure(account_number) or (partner_code if failing else None)
        if silent and answer_lost:
            return _Fate(504, failure_code, 1)  # processed, and the callback still comes
        if silent:
            return _Fate(202, failure_code, 0)  # answered, but the callback never comes
        return _Fate(202, failure_code, 2 if duplicated else 1)

    def _schedule(self, transfer: _Transfer) -> None:
        """Queues the transfer's completion (under the lock)."""
        due = time.monotonic() + self._timing.uniform(*self._delay)
        heapq.heappush(self._due, (due, next(self._sequence), transfer))
        self._changed.notify_all()

    def _work(self) -> None:
        while (transfer := self._complete_next()) is not None:
            try:
                self._announce(transfer)
            except Exception:  # a worker must outlive any one callback
                LOG.exception("a %s payment callback could not be sent", transfer.provider)
            finally:
                with self._changed:
                    self._in_flight -= 1
                    self._changed.notify_all()

    def _complete_next(self) -> _Transfer | None:
        """Waits until a completion falls due and settles that transfer; None once closed."""
        with self._changed:
            while not self._closed:
                wait = self._due[0][0] - time.monotonic() if self._due else None
                if wait is not None and wait <= 0:
                    transfer = heapq.heappop(self._due)[2]
                    transfer.status = "FAILED" if transfer.fate.failure_code else "SUCCESS"
                    transfer.failure_code = transfer.fate.failure_code
                    transfer.settled_at = _iso(self._now())
                    self._in_flight += 1
                    return transfer
                self._changed.wait(wait)
            return None

    def _announce(self, transfer: _Transfer) -> None:
        """Sends the completion callback(s), signed as the partner."""
        body = json.dumps(
            {
                "status": transfer.status,
                "reference": transfer.reference,
                "failure_code": transfer.failure_code,
                "settled_at": transfer.settled_at,
            }
        ).encode()
        for _ in range(transfer.fate.callbacks):
            secret = self._secret_of(transfer.provider)
            if secret is None or not self._still_recorded(transfer):
                return
            timestamp = str(int(self._wall()))
            headers = {
                PARTNER_HEADER: transfer.provider,
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(secret, timestamp, body),
                "Content-Type": "application/json",
            }
            self._send_callback(transfer.provider, transfer.transfer_id, body, headers)
            with self._lock:
                transfer.callbacks_sent += 1

    def _still_recorded(self, transfer: _Transfer) -> bool:
        """False once closed, or once reset() forgot the transfer."""
        with self._lock:
            return not self._closed and self._transfers.get((transfer.provider, transfer.transfer_id)) is transfer

    def _secret_of(self, provider: str) -> bytes | None:
        with self._secrets_lock:
            if self._secrets is None:
                self._secrets = dict(self._load_secrets())  # cached only once it worked
            return self._secrets.get(provider)


def http_callback_sender(
    api_url: Callable[[], str], *, retries: int = 3, pause_s: float = 0.2, timeout_s: float = 10.0
) -> SendCallback:
    """Delivers callbacks to our API as a partner does: retried on connection errors and 5xx,
    given up otherwise (a 4xx will not change by retrying)."""

    def send(provider: str, transfer_id: str, body: bytes, headers: dict[str, str]) -> None:
        url = f"{api_url()}/v1/partner/payments/{quote(transfer_id, safe='')}/callback"
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(pause_s * attempt)
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - our API
            try:
                with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
                    response.read()
                return
            except urllib.error.HTTPError as refused:
                refused.close()
                if refused.code < 500:
                    return
            except OSError:  # refused, reset or timed out: the callback may not have arrived
                pass
        LOG.warning("a %s payment callback was given up after %d attempts", provider, retries + 1)

    return send


def _match(request: Request) -> tuple[str, dict[str, Any]] | Response:
    """The partner route's endpoint and path variables, or the 404/405 answer."""
    try:
        endpoint, args = _ROUTES.bind("localhost").match(request.path.rstrip("/"), method=request.method)
    except MethodNotAllowed:
        return problem(405, "METHOD_NOT_ALLOWED", "Method not allowed", "Not supported here.")
    except HTTPException:
        return problem(404, "NOT_FOUND", "Not found", "No such payment partner route.")
    return str(endpoint), dict(args)


_ID_RULE = "1 to 80 characters: letters, digits, '.', '_' or '-'"


def _check(
    body: dict[str, Any], name: str, ok: Callable[[Any], bool], message: str, *, required: bool = True
) -> list[dict[str, str]]:
    if name not in body:
        return [{"field": name, "message": message}] if required else []
    return [] if ok(body[name]) else [{"field": name, "message": message}]


def _fault_errors(settings: dict[str, Any]) -> list[dict[str, str]]:
    providers = " ".join(PROVIDER_TYPES)
    errors = _check(settings, "provider", lambda v: v in PROVIDER_TYPES or v == ALL_PROVIDERS, f"one of {providers} *")
    for rate in ("fail_rate", "timeout_rate", "duplicate_rate"):
        errors += _check(settings, rate, _is_rate, "a number from 0 to 1")
    errors += _check(settings, "seed", lambda v: v is None or _is_int(v), "a whole number", required=False)
    return errors


def _invalid(errors: list[dict[str, str]]) -> NoReturn:
    raise BadRequest(422, "VALIDATION_FAILED", "The request has invalid fields.", errors)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_rate(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1  # NaN fails too


def _is_account_number(value: Any) -> bool:
    return isinstance(value, str) and bool(_ACCOUNT_NUMBER.match(value))


def _prefix_failure(account_number: str) -> str | None:
    return next((code for prefix, code in _PREFIX_FAILURES if account_number.startswith(prefix)), None)


def _unavailable() -> Response:
    response = problem(503, "PARTNER_UNAVAILABLE", "Service unavailable", "The payment partner is unavailable.")
    response.headers["Retry-After"] = "1"
    return response


def _timed_out() -> Response:
    return problem(504, "PARTNER_TIMEOUT", "Gateway timeout", "The payment partner did not answer in time.")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")
