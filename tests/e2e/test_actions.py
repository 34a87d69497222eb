"""Ops actions over HTTP (API.md, "Ops"; docs/cases.md): a card revocation needs a second ops
user and returns the unused balance to the treasury with the ledger balanced; both people are in
the audit log; a lifted blacklist; a hold that makes a payout run skip the applicant until it is
released; an exclusion list's entries removed."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from tests.e2e.conftest import Api
from tests.e2e_payouts.journey import complete_and_review, link, payouts, run_payouts

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ops_a(api: Api) -> str:
    return api.token("actions-ops-a@example.com", ["ops"])


@pytest.fixture(scope="module")
def ops_b(api: Api) -> str:
    return api.token("actions-ops-b@example.com", ["ops"])


def account_of(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


def applicant_id(api: Api, token: str) -> str:
    return str(api.call("GET", "/v1/applicants/me", token).json()["applicant_id"])


def ask(api: Api, ops: str, applicant: str, action: str, status: int = 202) -> dict[str, Any]:
    answer = api.call(
        "POST", f"/v1/ops/applicants/{applicant}/actions", ops, json={"action": action, "reason": "Laporan #7"}
    )
    assert answer.status_code == status, answer.text
    return dict(answer.json())


def ledger(api: Api, ops: str) -> dict[str, Any]:
    report = api.call("GET", "/v1/ops/ledger", ops)
    assert report.status_code == 200, report.text
    return dict(report.json())


def treasury(report: dict[str, Any]) -> int:
    return int({a["account"]: a["balance"] for a in report["accounts"]}.get("TREASURY", 0))


def audit(api: Api, ops: str, action: str) -> list[dict[str, Any]]:
    answer = api.call("GET", f"/v1/ops/audit-log?action={action}", ops)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_a_revocation_needs_a_second_ops_user_and_returns_the_balance(api: Api, ops_a: str, ops_b: str) -> None:
    [holder] = api.recipients(1)
    applicant = applicant_id(api, holder)
    unused = int(api.call("GET", "/v1/applicants/me", holder).json()["card"]["training_balance"])
    before = ledger(api, ops_a)

    asked = ask(api, ops_a, applicant, "REVOKE_CARD")
    assert asked["status"] == "PENDING_APPROVAL"
    action_id = asked["action_id"]
    queue = api.call("GET", "/v1/ops/actions?status=PENDING_APPROVAL&limit=200", ops_b).json()["items"]
    assert action_id in {a["action_id"] for a in queue}
    assert api.call("GET", "/v1/applicants/me", holder).json()["status"] == "SELECTED"  # nothing yet

    own = api.call("POST", f"/v1/ops/actions/{action_id}/approve", ops_a, json={})
    assert (own.status_code, own.json()["code"]) == (403, "SELF_APPROVAL")
    approved = api.call("POST", f"/v1/ops/actions/{action_id}/approve", ops_b, json={"reason": "Dicek"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "EXECUTED"

    profile = api.call("GET", "/v1/applicants/me", holder).json()
    assert profile["status"] == "REVOKED" and profile["card"]["training_balance"] == 0
    courses = api.call("GET", "/v1/trainings?limit=1", holder).json()["items"]
    bought = api.call("POST", "/v1/purchases", holder, json={"training_id": courses[0]["training_id"]})
    assert (bought.status_code, bought.json()["code"]) == (409, "CARD_REVOKED")
    after = ledger(api, ops_a)
    assert after["balanced"] and after["debits"] == after["credits"]
    assert treasury(after) - treasury(before) == unused
    assert after["returned"] - before["returned"] == unused

    again = api.call("POST", f"/v1/ops/actions/{action_id}/approve", ops_b, json={})
    assert (again.status_code, again.json()["code"]) == (409, "ACTION_ALREADY_DECIDED")
    assert ledger(api, ops_a)["returned"] == after["returned"]  # nothing returned twice
    view = api.call("GET", f"/v1/ops/actions/{action_id}", ops_a).json()
    assert (view["requested_by"], view["decided_by"]) == (account_of(ops_a), account_of(ops_b))
    gone = api.call("GET", "/v1/ops/actions?limit=200", ops_b).json()["items"]
    assert action_id not in {a["action_id"] for a in gone}

    # Both people, in the audit log, by the action's name; no personal data, ids only.
    [requested] = [e for e in audit(api, ops_a, "REVOKE_CARD_REQUESTED") if e["target"] == applicant]
    [approval] = [e for e in audit(api, ops_a, "REVOKE_CARD_APPROVED") if e["target"] == action_id]
    [change] = [e for e in audit(api, ops_a, "REVOKE_CARD") if e["target"] == applicant]
    assert (requested["actor"], requested["reason"]) == (account_of(ops_a), "Laporan #7")
    assert (approval["actor"], approval["reason"]) == (account_of(ops_b), "Dicek")
    assert change["actor"] == account_of(ops_b) and change["request_id"] == approval["request_id"]
    # Recorded by the route, not once more by the generic recorder.
    generic = audit(api, ops_a, "POST /v1/ops/actions/{action_id}/approve")
    assert not generic

    # Revoked cards are blacklisted, as by the nightly sweep; lifting it needs a second person too.
    lift = ask(api, ops_b, applicant, "LIFT_BLACKLIST")
    assert lift["status"] == "PENDING_APPROVAL"
    lifted = api.call("POST", f"/v1/ops/actions/{lift['action_id']}/approve", ops_a, json={})
    assert lifted.status_code == 200 and lifted.json()["status"] == "EXECUTED", lifted.text
    assert ask(api, ops_b, applicant, "LIFT_BLACKLIST", status=409)["code"] == "NOT_BLACKLISTED"
    assert ask(api, ops_b, applicant, "REVOKE_CARD", status=409)["code"] == "NO_ACTIVE_CARD"


def test_actions_refuse_what_does_not_apply(api: Api, ops_a: str, ops_b: str) -> None:
    assert ask(api, ops_a, "no-such-applicant", "HOLD_PAYOUTS", status=404)["code"] == "APPLICANT_NOT_FOUND"
    token, _ = api.verified_applicant()
    applicant = applicant_id(api, token)
    assert ask(api, ops_a, applicant, "REVOKE_CARD", status=409)["code"] == "NO_ACTIVE_CARD"
    assert ask(api, ops_a, applicant, "RELEASE_PAYOUTS", status=409)["code"] == "PAYOUTS_NOT_HELD"
    wave_id = api.open_wave(ops_a, "actions-locked-seed", quota_total=5)
    assert api.call("POST", f"/v1/waves/{wave_id}/join", token).status_code == 200
    assert ask(api, ops_a, applicant, "REVERIFY", status=409)["code"] == "PROFILE_LOCKED"  # in a wave
    blank = api.call("POST", f"/v1/ops/applicants/{applicant}/actions", ops_a, json={"action": "REVERIFY"})
    assert blank.status_code == 422
    assert api.call("POST", f"/v1/ops/applicants/{applicant}/actions", token, json={}).status_code == 403
    missing = api.call("POST", "/v1/ops/actions/no-such-action/reject", ops_b, json={"reason": "x"})
    assert (missing.status_code, missing.json()["code"]) == (404, "ACTION_NOT_FOUND")


def test_a_hold_makes_payout_runs_skip_the_applicant_until_released(api: Api, ops_a: str, ops_b: str) -> None:
    [payee] = api.recipients(1)
    applicant = applicant_id(api, payee)
    link(api, payee, "BNI", "7766554433")
    held = ask(api, ops_a, applicant, "HOLD_PAYOUTS")
    assert held["status"] == "EXECUTED"
    assert ask(api, ops_b, applicant, "HOLD_PAYOUTS", status=409)["code"] == "PAYOUTS_ALREADY_HELD"
    complete_and_review(api, payee)  # the job-search incentive falls due
    [due] = payouts(api, payee)
    assert due["status"] == "SCHEDULED"

    run_payouts(api)
    assert [p["status"] for p in payouts(api, payee)] == ["SCHEDULED"]  # skipped, still due
    assert not [t for t in api.cloud.payment_partners.transfers("BNI") if t["account_number"] == "7766554433"]

    assert ask(api, ops_b, applicant, "RELEASE_PAYOUTS")["status"] == "EXECUTED"
    run_payouts(api)
    [paid] = payouts(api, payee)
    assert paid["status"] in {"PROCESSING", "PAID"}
    assert [t for t in api.cloud.payment_partners.transfers("BNI") if t["account_number"] == "7766554433"]
    assert [e["actor"] for e in audit(api, ops_a, "HOLD_PAYOUTS") if e["target"] == applicant] == [account_of(ops_a)]
    assert [e["actor"] for e in audit(api, ops_a, "RELEASE_PAYOUTS") if e["target"] == applicant] == [account_of(ops_b)]


def test_removals_take_a_nik_off_an_exclusion_list(api: Api, ops_a: str) -> None:
    removed, kept = api.person(), api.person()
    imported = api.call("POST", "/v1/ops/exclusion-lists/ASN", ops_a, json={"niks": [removed["nik"], kept["nik"]]})
    assert imported.status_code == 200, imported.text
    answer = api.call("POST", "/v1/ops/exclusion-lists/ASN/removals", ops_a, json={"niks": [removed["nik"]]})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"source": "ASN", "received": 1, "removed": 1}
    bad = api.call("POST", "/v1/ops/exclusion-lists/ASN/removals", ops_a, json={"niks": ["123"]})
    assert bad.status_code == 422 and removed["nik"] not in bad.text
    unknown = api.call("POST", "/v1/ops/exclusion-lists/BLACKLIST/removals", ops_a, json={"niks": [kept["nik"]]})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "EXCLUSION_LIST_UNKNOWN")  # four eyes only

    token, created = api.register(removed)
    assert created.status_code == 201, created.text
    assert api.wait_for_decision(token)["status"] == "VERIFIED"
    token, created = api.register(kept)
    assert created.status_code == 201, created.text
    decided = api.wait_for_decision(token)
    assert decided["status"] == "REJECTED" and "EXCLUDED_OCCUPATION" in decided["reasons"]
    # The generic recorder has the removal, by route, with its path as the target.
    entries = audit(api, ops_a, "POST /v1/ops/exclusion-lists/{source}/removals")
    assert entries and entries[0]["target"] == "/v1/ops/exclusion-lists/ASN/removals"
