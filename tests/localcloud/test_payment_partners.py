"""The simulated payment partners, served by LocalRoutes as the runtime serves them (no LocalCloud)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from localcloud.civil_registry import CivilRegistry
from localcloud.local_routes import LocalRoutes
from localcloud.payment_partners import PaymentPartners, http_callback_sender
from prakerja.partners import sign

SECRETS = {p: f"{p.lower()}-secret".encode() for p in ("BNI", "OVO", "GOPAY", "LINKAJA", "DANA")}
BASE = "/_local/payment-partners"
START = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
BANK_CODES = {"ACCOUNT_INACTIVE", "ACCOUNT_BLOCKED"}
EWALLET_CODES = {"ACCOUNT_INACTIVE", "WALLET_NOT_UPGRADED", "WALLET_LIMIT_EXCEEDED"}


class ProgramClock:
    def __init__(self) -> None:
        self.moment = START

    def now(self) -> datetime:
        return self.moment


class Callbacks:
    """What the partners sent to our API."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, bytes, dict[str, str]]] = []
        self._lock = threading.Lock()

    def __call__(self, provider: str, transfer_id: str, body: bytes, headers: dict[str, str]) -> None:
        with self._lock:
            self.sent.append((provider, transfer_id, body, headers))

    def of(self, transfer_id: str) -> list[dict[str, Any]]:
        return [json.loads(body) for _, tid, body, _ in self.sent if tid == transfer_id]


class Bucket:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def __call__(self, key: str, body: bytes) -> str:
        self.objects[key] = body
        return "payouts-bucket"


@pytest.fixture
def clock():
    return ProgramClock()


@pytest.fixture
def callbacks():
    return Callbacks()


@pytest.fixture
def bucket():
    return Bucket()


@pytest.fixture
def partners(clock, callbacks, bucket):
    simulator = PaymentPartners(lambda: SECRETS, clock.now, callbacks, bucket, completion_delay=(0.0, 0.0))
    yield simulator
    simulator.close()


@pytest.fixture
def client(partners):
    return client_of(partners)


def client_of(partners: PaymentPartners) -> Client:
    routes = LocalRoutes(CivilRegistry(), lambda: None, dict, payments=partners)

    def app(environ, start_response):
        return routes.handle(Request(environ))(environ, start_response)

    return Client(app)


def call(client, method, path, body=None, *, secret=None, timestamp=None, client_id="prakerja", provider=None):
    """A call signed as our functions sign it (with the path's provider's secret by default)."""
    raw = b"" if body is None else json.dumps(body).encode()
    provider = provider or path.split("/")[0]
    stamp = str(int(time.time())) if timestamp is None else timestamp
    headers = {
        "X-Client-Id": client_id,
        "X-Timestamp": stamp,
        "X-Signature": sign(secret or SECRETS.get(provider, b"x"), stamp, raw),
        "Content-Type": "application/json",
    }
    return client.open(f"{BASE}/{path}", method=method, data=raw, headers=headers)


def transfer(client, provider, transfer_id, account="1234567890", amount=600_000):
    body = {"transfer_id": transfer_id, "account_number": account, "amount": amount, "description": "insentif"}
    return call(client, "POST", f"{provider}/transfers", body)


def inquiry(client, account, provider="BNI", account_type="BANK"):
    body = {"account_type": account_type, "account_number": account, "nik": "3171012345678901", "full_name": "Siti"}
    return call(client, "POST", f"{provider}/accounts/inquiry", body)


def set_faults(client, **settings):
    return client.post("/_local/payment-faults", json=settings)


# -- authentication and routing ---------------------------------------------------------------
@pytest.mark.parametrize(
    "how",
    [
        {"secret": b"wrong"},
        {"secret": SECRETS["OVO"]},  # another partner's secret
        {"timestamp": str(int(time.time()) - 301)},
        {"timestamp": "yesterday"},
        {"client_id": "someone-else"},
    ],
)
def test_calls_not_signed_by_us_are_refused(client, how):
    answer = call(client, "POST", "BNI/transfers", {"transfer_id": "t-1", "account_number": "1", "amount": 1}, **how)
    assert answer.status_code == 401
    assert answer.json["code"] == "SIGNATURE_INVALID"


def test_unsigned_calls_are_refused_and_record_nothing(client, partners):
    answer = client.post(f"{BASE}/BNI/transfers", json={"transfer_id": "t-1", "account_number": "1", "amount": 1})
    assert answer.status_code == 401
    assert answer.json["code"] == "SIGNATURE_INVALID"
    assert partners.transfers() == []


def test_unknown_provider_and_route(client):
    assert call(client, "GET", "MANDIRI/transfers/t-1", secret=b"x").json["code"] == "PROVIDER_UNKNOWN"
    assert call(client, "GET", "BNI/refunds").status_code == 404
    assert call(client, "GET", "BNI/transfers").status_code == 405


# -- account inquiry ----------------------------------------------------------------------------
def test_inquiry_answers_by_account_number_prefix(client):
    assert inquiry(client, "1234567890").json == {"status": "VALID"}
    assert inquiry(client, "0001234567").json == {"status": "INVALID", "reason": "ACCOUNT_NOT_FOUND"}
    assert inquiry(client, "9991234567", "OVO", "EWALLET").json == {"status": "INVALID", "reason": "NAME_MISMATCH"}


def test_malformed_inquiry_is_refused(client):
    answer = call(client, "POST", "BNI/accounts/inquiry", {"account_type": "CASH", "account_number": 5})
    assert answer.status_code == 422
    assert {e["field"] for e in answer.json["errors"]} == {"account_type", "account_number", "nik", "full_name"}


def test_inquiry_faults(client):
    set_faults(client, provider="BNI", fail_rate=1, timeout_rate=0)
    assert inquiry(client, "1234567890").json["code"] == "PARTNER_UNAVAILABLE"
    set_faults(client, provider="BNI", fail_rate=0, timeout_rate=1)
    answer = inquiry(client, "1234567890")
    assert (answer.status_code, answer.json["code"]) == (504, "PARTNER_TIMEOUT")
    assert inquiry(client, "1234567890", "OVO", "EWALLET").json == {"status": "VALID"}  # others unaffected


# -- transfers ----------------------------------------------------------------------------------
def test_a_transfer_completes_and_calls_back_signed_as_the_partner(client, partners, callbacks):
    answer = transfer(client, "BNI", "payout-1")
    assert answer.status_code == 202
    reference = answer.json["reference"]
    assert answer.json == {"transfer_id": "payout-1", "reference": reference, "status": "PENDING"}
    assert reference.startswith("BNI-") and len(reference) == 16
    partners.wait_idle(5)

    [(provider, transfer_id, body, headers)] = callbacks.sent
    assert (provider, transfer_id) == ("BNI", "payout-1")
    assert json.loads(body) == {
        "status": "SUCCESS",
        "reference": reference,
        "failure_code": None,
        "settled_at": "2024-05-01T09:30:00Z",
    }
    assert headers["X-Partner-Id"] == "BNI"
    assert headers["Content-Type"] == "application/json"
    assert abs(int(headers["X-Timestamp"]) - time.time()) < 5  # real time, not program time
    assert headers["X-Signature"] == sign(SECRETS["BNI"], headers["X-Timestamp"], body)

    status = call(client, "GET", "BNI/transfers/payout-1")
    assert status.status_code == 200
    assert status.json == {
        "transfer_id": "payout-1",
        "reference": reference,
        "status": "SUCCESS",
        "failure_code": None,
        "amount": 600_000,
        "settled_at": "2024-05-01T09:30:00Z",
    }
    assert partners.paid_amounts() == {"1234567890": 600_000}


def test_a_repeated_transfer_id_is_the_same_transfer(client, partners, callbacks):
    first = transfer(client, "OVO", "payout-1", "081234567890", 600_000)
    partners.wait_idle(5)
    again = transfer(client, "OVO", "payout-1", "081234567890", 600_000)
    assert again.status_code == 200
    assert again.json["reference"] == first.json["reference"]
    assert again.json["status"] == "SUCCESS"
    partners.wait_idle(5)
    assert len(partners.transfers()) == 1
    assert len(callbacks.sent) == 1
    assert partners.paid_amounts() == {"081234567890": 600_000}


def test_the_same_id_at_another_partner_is_another_transfer(client, partners):
    assert transfer(client, "OVO", "payout-1").status_code == 202
    assert transfer(client, "DANA", "payout-1").status_code == 202
    assert [t["provider"] for t in partners.transfers()] == ["OVO", "DANA"]


@pytest.mark.parametrize("change", [{"account": "1111111111"}, {"amount": 1}])
def test_a_transfer_id_cannot_be_reused_for_another_order(client, partners, change):
    transfer(client, "BNI", "payout-1")
    answer = transfer(client, "BNI", "payout-1", **change)
    assert (answer.status_code, answer.json["code"]) == (409, "TRANSFER_ID_REUSED")
    assert len(partners.transfers()) == 1


@pytest.mark.parametrize(("account", "code"), [("0001234567", "ACCOUNT_NOT_FOUND"), ("9991234567", "NAME_MISMATCH")])
def test_refused_accounts_are_accepted_then_fail(client, partners, callbacks, account, code):
    assert transfer(client, "GOPAY", "payout-1", account).status_code == 202
    partners.wait_idle(5)
    [callback] = callbacks.of("payout-1")
    assert (callback["status"], callback["failure_code"]) == ("FAILED", code)
    assert call(client, "GET", "GOPAY/transfers/payout-1").json["failure_code"] == code
    assert partners.paid_amounts() == {}


@pytest.mark.parametrize(
    "body",
    [
        {"transfer_id": "", "account_number": "1", "amount": 1},
        {"transfer_id": "a/b", "account_number": "1", "amount": 1},
        {"transfer_id": "x" * 81, "account_number": "1", "amount": 1},
        {"transfer_id": "t", "account_number": "1", "amount": 0},
        {"transfer_id": "t", "account_number": "1", "amount": 1.5},
        {"transfer_id": "t", "account_number": "1", "amount": True},
        {"transfer_id": "t", "amount": 1},
        {"transfer_id": "t", "account_number": "1", "amount": 1, "description": 5},
    ],
)
def test_malformed_transfers_are_refused(client, partners, body):
    answer = call(client, "POST", "BNI/transfers", body)
    assert answer.status_code == 422
    assert answer.json["code"] == "VALIDATION_FAILED"
    assert partners.transfers() == []


def test_unknown_transfer(client):
    answer = call(client, "GET", "BNI/transfers/never-sent")
    assert (answer.status_code, answer.json["code"]) == (404, "TRANSFER_NOT_FOUND")


# -- faults -------------------------------------------------------------------------------------
def run_with_faults(client, partners, callbacks, seed: int) -> list[tuple[Any, ...]]:
    """Fifty transfers under every fault; what each one met."""
    faults = set_faults(client, provider="DANA", fail_rate=0.3, timeout_rate=0.3, duplicate_rate=0.3, seed=seed)
    assert faults.status_code == 200
    answers = [transfer(client, "DANA", f"payout-{i}", f"08{i:010d}").status_code for i in range(50)]
    partners.wait_idle(5)
    outcomes = {t["transfer_id"]: (t["status"], t["failure_code"], t["callbacks_sent"]) for t in partners.transfers()}
    return [(code, outcomes.get(f"payout-{i}")) for i, code in enumerate(answers)]


def test_faults_are_reproducible_with_a_seed(client, partners, callbacks):
    first = run_with_faults(client, partners, callbacks, seed=7)
    partners.reset()
    again = run_with_faults(client, partners, callbacks, seed=7)
    partners.reset()
    other = run_with_faults(client, partners, callbacks, seed=8)
    assert first == again
    assert first != other
    assert {code for code, _ in first} == {202, 503, 504}


def test_with_every_transfer_failing_each_fails_one_of_two_ways(client, partners, callbacks):
    set_faults(client, provider="*", fail_rate=1, timeout_rate=0, seed=3)
    answers = {
        (provider, i): transfer(client, provider, f"payout-{i}").status_code
        for provider in ("BNI", "OVO")
        for i in range(20)
    }
    partners.wait_idle(5)
    recorded = {(t["provider"], int(t["transfer_id"].split("-")[1])): t for t in partners.transfers()}
    assert set(answers.values()) == {202, 503}
    for key, code in answers.items():
        if code == 503:
            assert key not in recorded  # safe to retry
            continue
        provider, i = key
        assert recorded[key]["status"] == "FAILED"
        assert recorded[key]["failure_code"] in (BANK_CODES if provider == "BNI" else EWALLET_CODES)
        assert callbacks.of(f"payout-{i}")  # the failure is announced
    assert partners.paid_amounts() == {}

    accepted = next(key for key, code in answers.items() if code == 202)
    repeat = transfer(client, accepted[0], f"payout-{accepted[1]}")
    assert (repeat.status_code, repeat.json["status"]) == (200, "FAILED")  # repeats never meet a 503
    refused = next(key for key, code in answers.items() if code == 503)
    set_faults(client, provider="*", fail_rate=0, timeout_rate=0)
    assert transfer(client, refused[0], f"payout-{refused[1]}").status_code == 202


def test_a_silent_partner_still_pays_and_answers_status_queries(client, partners, callbacks):
    set_faults(client, provider="LINKAJA", fail_rate=0, timeout_rate=1, seed=11)
    answers = {f"payout-{i}": transfer(client, "LINKAJA", f"payout-{i}", f"08{i:010d}").status_code for i in range(20)}
    partners.wait_idle(5)
    assert set(answers.values()) == {202, 504}
    for transfer_id, code in answers.items():
        status = call(client, "GET", f"LINKAJA/transfers/{transfer_id}")
        assert (status.status_code, status.json["status"]) == (200, "SUCCESS")
        # the answer was lost but the callback comes; or the answer came and the callback never does
        assert len(callbacks.of(transfer_id)) == (1 if code == 504 else 0)
    assert len(partners.paid_amounts()) == 20

    lost = next(transfer_id for transfer_id, code in answers.items() if code == 504)
    repeat = transfer(client, "LINKAJA", lost, f"08{int(lost.split('-')[1]):010d}")
    assert (repeat.status_code, repeat.json["status"]) == (200, "SUCCESS")
    assert len(partners.transfers()) == 20


def test_duplicate_callbacks(client, partners, callbacks):
    set_faults(client, provider="BNI", fail_rate=0, timeout_rate=0, duplicate_rate=1)
    transfer(client, "BNI", "payout-1")
    partners.wait_idle(5)
    first, second = callbacks.of("payout-1")
    assert first == second
    assert partners.transfers()[0]["callbacks_sent"] == 2
    assert partners.paid_amounts() == {"1234567890": 600_000}  # delivered twice, paid once


def test_status_queries_fail_but_never_time_out(client, partners):
    transfer(client, "OVO", "payout-1")
    set_faults(client, provider="OVO", fail_rate=0, timeout_rate=1)
    assert call(client, "GET", "OVO/transfers/payout-1").status_code == 200
    set_faults(client, provider="OVO", fail_rate=1, timeout_rate=0)
    answer = call(client, "GET", "OVO/transfers/payout-1")
    assert (answer.status_code, answer.json["code"]) == (503, "PARTNER_UNAVAILABLE")


def test_fault_settings_are_echoed(client):
    answer = set_faults(client, provider="*", fail_rate=0.25, timeout_rate=0, seed=42)
    assert answer.status_code == 200
    assert answer.json == {"provider": "*", "fail_rate": 0.25, "timeout_rate": 0, "duplicate_rate": 0, "seed": 42}


@pytest.mark.parametrize(
    ("settings", "fields"),
    [
        ({"provider": "MANDIRI", "fail_rate": 0, "timeout_rate": 0}, {"provider"}),
        ({"provider": "BNI", "fail_rate": 1.5, "timeout_rate": -0.1}, {"fail_rate", "timeout_rate"}),
        ({"provider": "BNI", "fail_rate": "0.5", "timeout_rate": True}, {"fail_rate", "timeout_rate"}),
        ({"provider": "BNI", "fail_rate": 0}, {"timeout_rate"}),
        ({"provider": "BNI", "fail_rate": 0, "timeout_rate": 0, "duplicate_rate": 2}, {"duplicate_rate"}),
        ({"provider": "BNI", "fail_rate": 0, "timeout_rate": 0, "seed": "7"}, {"seed"}),
        ({"provider": "BNI", "fail_rate": 0, "timeout_rate": 0, "seed": 1.5}, {"seed"}),
    ],
)
def test_fault_settings_are_validated(client, settings, fields):
    answer = set_faults(client, **settings)
    assert (answer.status_code, answer.json["code"]) == (422, "VALIDATION_FAILED")
    assert {e["field"] for e in answer.json["errors"]} == fields


def test_fault_settings_must_be_json(client):
    answer = client.post("/_local/payment-faults", data=b"{not json", content_type="application/json")
    assert (answer.status_code, answer.json["code"]) == (400, "MALFORMED_JSON")


def test_reset_forgets_transfers_and_faults(client, partners):
    set_faults(client, provider="*", fail_rate=1, timeout_rate=0, seed=1)
    transfer(client, "BNI", "payout-1")
    partners.reset()
    assert partners.transfers() == []
    assert transfer(client, "BNI", "payout-1").status_code == 202


# -- settlement reports -------------------------------------------------------------------------
def test_the_settlement_report_lists_the_days_successful_transfers(client, partners, clock, bucket):
    transfer(client, "BNI", "payout-b", "1111111111", 600_000)
    transfer(client, "BNI", "payout-a", "2222222222", 150_000)
    transfer(client, "BNI", "payout-x", "0003333333", 600_000)  # fails
    transfer(client, "OVO", "payout-o", "0812345678", 600_000)  # another partner's
    partners.wait_idle(5)
    clock.moment = START + timedelta(days=1)
    transfer(client, "BNI", "payout-c", "4444444444", 600_000)  # the next day's
    partners.wait_idle(5)
    references = {t["transfer_id"]: t["reference"] for t in partners.transfers()}

    answer = client.post(f"{BASE}/BNI/settlement-report", json={"date": "2024-05-01"})
    assert answer.status_code == 201
    key = "settlements/BNI/2024-05-01.csv"
    assert answer.json == {"provider": "BNI", "bucket": "payouts-bucket", "key": key, "lines": 2}
    assert bucket.objects["settlements/BNI/2024-05-01.csv"].decode() == (
        "transfer_id,reference,amount,status,settled_at\n"
        f"payout-a,{references['payout-a']},150000,SUCCESS,2024-05-01T09:30:00Z\n"
        f"payout-b,{references['payout-b']},600000,SUCCESS,2024-05-01T09:30:00Z\n"
    )

    today = client.post(f"{BASE}/BNI/settlement-report")  # the program clock's day
    assert today.json["key"] == "settlements/BNI/2024-05-02.csv"
    assert today.json["lines"] == 1


def test_settlement_report_date_is_validated(client):
    answer = client.post(f"{BASE}/BNI/settlement-report", json={"date": "01-05-2024"})
    assert (answer.status_code, answer.json["code"]) == (422, "VALIDATION_FAILED")


def test_no_settlement_report_without_a_payouts_bucket(clock, callbacks):
    partners = PaymentPartners(lambda: SECRETS, clock.now, callbacks, lambda key, body: None)
    try:
        answer = client_of(partners).post(f"{BASE}/BNI/settlement-report", json={})
        assert (answer.status_code, json.loads(answer.data)["code"]) == (501, "NO_PAYOUTS_BUCKET")
    finally:
        partners.close()


# -- secrets and callback delivery ----------------------------------------------------------------
def test_secrets_are_read_once(clock, callbacks):
    reads = Counter[str]()

    def secrets() -> dict[str, bytes]:
        reads["secrets"] += 1
        return SECRETS

    partners = PaymentPartners(secrets, clock.now, callbacks, completion_delay=(0.0, 0.0))
    try:
        client = client_of(partners)
        transfer(client, "BNI", "payout-1")
        inquiry(client, "1234567890")
        partners.wait_idle(5)
        assert reads["secrets"] == 1
    finally:
        partners.close()


def test_callbacks_over_http_are_retried_on_server_errors_only():
    statuses = [503, 502, 200, 400]
    seen: list[tuple[str, bytes, str]] = []

    def api(environ, start_response):
        request = Request(environ)
        seen.append((request.path, request.get_data(), request.headers.get("X-Partner-Id", "")))
        return Response(status=statuses[len(seen) - 1])(environ, start_response)

    server = make_server("127.0.0.1", 0, api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        send = http_callback_sender(lambda: f"http://127.0.0.1:{server.server_port}", pause_s=0)
        send("BNI", "payout-1", b'{"status":"SUCCESS"}', {"X-Partner-Id": "BNI"})
        assert [path for path, _, _ in seen] == ["/v1/partner/payments/payout-1/callback"] * 3
        assert seen[0][1:] == (b'{"status":"SUCCESS"}', "BNI")
        send("BNI", "payout-2", b"{}", {})  # a 4xx: not retried
        assert len(seen) == 4
    finally:
        server.shutdown()
        thread.join(5)
