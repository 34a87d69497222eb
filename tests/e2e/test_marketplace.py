"""The training marketplace end to end: the seeded catalog, purchases with the card balance
(idempotent, never overdrawn under 50 concurrent requests), signed partner calls, reviews, and
the ledger that accounts for all of it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ops(api: Api) -> str:
    return api.token("marketplace-ops@example.com", ["ops"])


@pytest.fixture(scope="module")
def holders(api: Api) -> list[str]:
    return api.recipients(3)


def course(api: Api, ops: str, price: int, platform: str = "PINTARIA", title: str = "Kelas Barista E2E") -> str:
    body = {
        "title": title,
        "institution": "LPK Kopi Nusantara",
        "platform": platform,
        "type": "OFFLINE",
        "price": price,
        "hours": 40,
        "category": "CULINARY",
    }
    created = api.call("POST", "/v1/ops/trainings", ops, json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["training_id"])


def balance(api: Api, token: str) -> int:
    return int(api.call("GET", "/v1/applicants/me", token).json()["card"]["training_balance"])


def test_the_seeded_catalog_filters_and_pages(api: Api) -> None:
    token = api.token()
    seen: list[dict[str, Any]] = []
    query = "/v1/trainings?limit=7"
    while True:
        page = api.call("GET", query, token)
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        if not page.json()["next_token"]:
            break
        query = f"/v1/trainings?limit=7&next_token={page.json()['next_token']}"
    assert len(seen) >= 48 and len({t["training_id"] for t in seen}) == len(seen)
    offline = api.call("GET", "/v1/trainings?type=OFFLINE&category=CULINARY", token).json()["items"]
    assert offline and all(t["type"] == "OFFLINE" and t["category"] == "CULINARY" for t in offline)
    digital = api.call("GET", "/v1/trainings?q=digital&platform=TOKOPEDIA", token).json()["items"]
    assert digital and all("digital" in t["title"].lower() and t["platform"] == "TOKOPEDIA" for t in digital)
    one = api.call("GET", f"/v1/trainings/{seen[0]['training_id']}", token)
    assert one.json() == seen[0]
    assert api.call("GET", "/v1/trainings/trn-000000000000", token).json()["code"] == "TRAINING_NOT_FOUND"
    assert api.call("GET", "/v1/trainings/../../etc", token).status_code == 404
    assert api.call("GET", "/v1/trainings?type=CLASSROOM", token).status_code == 422
    assert api.call("GET", "/v1/trainings?next_token=forged", token).json()["code"] == "NEXT_TOKEN_INVALID"


def test_only_ops_add_courses_and_only_on_known_platforms(api: Api, ops: str) -> None:
    body: dict[str, Any] = {"title": "Kelas Palsu", "institution": "LPK", "platform": "PINTARIA", "type": "WEBINAR"}
    body |= {"price": 100_000, "hours": 2, "category": "IT"}
    assert api.call("POST", "/v1/ops/trainings", api.token(), json=body).json()["code"] == "OPS_ONLY"
    unknown = api.call("POST", "/v1/ops/trainings", ops, json={**body, "platform": "MYSPACE"})
    assert (unknown.status_code, unknown.json()["code"]) == (422, "PLATFORM_UNKNOWN")
    training_id = course(api, ops, 100_000)
    updated = api.call("PUT", f"/v1/ops/trainings/{training_id}", ops, json={**body, "price": 125_000})
    assert updated.status_code == 200 and updated.json()["price"] == 125_000


def test_only_recipients_buy(api: Api, ops: str) -> None:
    token, _ = api.verified_applicant()
    bought = api.call("POST", "/v1/purchases", token, json={"training_id": course(api, ops, 100_000)})
    assert (bought.status_code, bought.json()["code"]) == (403, "NOT_A_RECIPIENT")


def test_a_repeated_idempotency_key_returns_the_first_answer_and_debits_once(
    api: Api, ops: str, holders: list[str]
) -> None:
    token = holders[0]
    training_id = course(api, ops, 250_000)
    before = balance(api, token)
    key = {"Idempotency-Key": "buy-barista-0001"}
    first = api.call("POST", "/v1/purchases", token, json={"training_id": training_id}, headers=key)
    again = api.call("POST", "/v1/purchases", token, json={"training_id": training_id}, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and first.json()["training_balance"] == before - 250_000
    assert balance(api, token) == before - 250_000
    other = api.call("POST", "/v1/purchases", token, json={"training_id": course(api, ops, 1000)}, headers=key)
    assert (other.status_code, other.json()["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")


def test_fifty_concurrent_purchases_never_overdraw_a_card(api: Api, ops: str, holders: list[str], cloud: Any) -> None:
    token = holders[1]
    assert balance(api, token) == 3_500_000  # the 2023 scheme's training balance
    training_id = course(api, ops, 1_000_000)  # three fit, a fourth does not

    def buy(_: int) -> tuple[int, str]:
        response = api.call("POST", "/v1/purchases", token, json={"training_id": training_id})
        return response.status_code, str(response.json().get("code", ""))

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(buy, range(50)))

    assert sorted(answers).count((201, "")) == 3, answers
    assert all(answer == (409, "INSUFFICIENT_BALANCE") for answer in answers if answer[0] != 201), answers
    assert balance(api, token) == 500_000
    mine = api.call("GET", "/v1/purchases", token).json()["items"]
    assert len(mine) == 3 and {p["status"] for p in mine} == {"PAID"}
    card = api.call("GET", "/v1/applicants/me", token).json()["card"]["card_number"]
    statement = api.call("GET", f"/v1/ops/ledger/accounts/CARD:{card}", ops).json()
    assert statement["balance"] == 500_000 and [e["kind"] for e in statement["entries"]].count("PURCHASE") == 3


def test_platforms_redeem_and_complete_with_signed_calls(api: Api, ops: str, holders: list[str]) -> None:
    token = holders[2]
    bought = api.call("POST", "/v1/purchases", token, json={"training_id": course(api, ops, 300_000)}).json()
    voucher = {"voucher_code": bought["voucher_code"]}
    other_voucher = {"voucher_code": "0000-0000-0000-0000"}

    refused = [
        api.partner_call("PINTARIA", "/v1/partner/redemptions", voucher, secret="not-the-secret"),
        api.partner_call("PINTARIA", "/v1/partner/redemptions", voucher, timestamp=int(time.time()) - 3600),
        # A signature made for another voucher's body, replayed with this one.
        api.partner_call("PINTARIA", "/v1/partner/redemptions", voucher, signed_body=repr(other_voucher).encode()),
        api.call("POST", "/v1/partner/redemptions", json=voucher),  # unsigned
        api.call("POST", "/v1/partner/redemptions", api.token(), json=voucher),  # an applicant's token
    ]
    assert [(r.status_code, r.json()["code"]) for r in refused] == [
        (401, "SIGNATURE_INVALID"),
        (401, "SIGNATURE_EXPIRED"),
        (401, "SIGNATURE_INVALID"),
        (401, "SIGNATURE_MISSING"),
        (401, "SIGNATURE_MISSING"),
    ]
    elsewhere = api.partner_call("TOKOPEDIA", "/v1/partner/redemptions", voucher)
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "VOUCHER_NOT_FOUND")
    completion = {
        **voucher,
        "completed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "certificate_id": "SRT-1",
    }
    early = api.partner_call("PINTARIA", "/v1/partner/completions", completion)
    assert (early.status_code, early.json()["code"]) == (409, "VOUCHER_NOT_REDEEMED")

    redeemed = api.partner_call("PINTARIA", "/v1/partner/redemptions", voucher)
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["status"] == "REDEEMED" and redeemed.json()["training"]["title"] == "Kelas Barista E2E"
    assert "*" in redeemed.json()["buyer_name"]
    twice = api.partner_call("PINTARIA", "/v1/partner/redemptions", voucher)
    assert (twice.status_code, twice.json()["code"]) == (409, "VOUCHER_ALREADY_REDEEMED")

    review = {"rating": 4, "review": "Instruktur jelas"}
    too_soon = api.call("POST", f"/v1/purchases/{bought['purchase_id']}/review", token, json=review)
    assert (too_soon.status_code, too_soon.json()["code"]) == (409, "NOT_COMPLETED")
    done = api.partner_call("PINTARIA", "/v1/partner/completions", completion)
    repeat = api.partner_call("PINTARIA", "/v1/partner/completions", completion)
    assert done.status_code == repeat.status_code == 200 and done.json() == repeat.json()
    conflicting = api.partner_call("PINTARIA", "/v1/partner/completions", {**completion, "certificate_id": "SRT-2"})
    assert (conflicting.status_code, conflicting.json()["code"]) == (409, "ALREADY_COMPLETED")

    reviewed = api.call("POST", f"/v1/purchases/{bought['purchase_id']}/review", token, json=review)
    assert reviewed.status_code == 200 and reviewed.json()["review"]["rating"] == 4
    (mine,) = [
        p
        for p in api.call("GET", "/v1/purchases", token).json()["items"]
        if p["voucher_code"] == voucher["voucher_code"]
    ]
    assert (mine["status"], mine["certificate_id"]) == ("COMPLETED", "SRT-1")


def test_the_ledger_balances_and_shows_where_the_money_went(api: Api, ops: str, holders: list[str]) -> None:
    report = api.call("GET", "/v1/ops/ledger", ops)
    assert report.status_code == 200, report.text
    ledger = report.json()
    assert ledger["balanced"] and ledger["debits"] == ledger["credits"]
    assert ledger["budget"] == ledger["available"] + ledger["committed"] + ledger["disbursed"] + ledger["returned"]
    accounts = {a["account"]: a["balance"] for a in ledger["accounts"]}
    assert accounts["PLATFORM:PINTARIA"] >= 3 * 1_000_000 + 250_000 + 300_000
    assert api.call("GET", "/v1/ops/ledger", holders[0]).status_code == 403
    assert api.call("GET", "/v1/ops/ledger/accounts/TREASURY", ops).json()["code"] == "ACCOUNT_TOTALS_ONLY"
