"""An incentive from entitlement to the applicant's account: the payout account validated by
the partner, the job-search and survey incentives of the scheme, a payout run that pays each
once, the callback's repeats, and the ledger that follows every rupiah."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import Api
from tests.e2e_payouts.journey import complete_and_review, ledger, link, payouts, run_payouts

pytestmark = pytest.mark.e2e


def test_a_payout_account_is_validated_by_its_partner_and_shown_masked(api: Api) -> None:
    [token] = api.recipients(1)
    not_found = link(api, token, "BNI", "0001234567")
    assert (not_found["status"], not_found["reason"]) == ("INVALID", "ACCOUNT_NOT_FOUND")
    mismatch = link(api, token, "DANA", "99981234567")
    assert (mismatch["status"], mismatch["reason"]) == ("INVALID", "NAME_MISMATCH")
    valid = link(api, token, "OVO", "081234567890")
    assert valid["status"] == "VALID" and valid["reason"] is None
    assert valid["account_number"].endswith("7890") and "081234567890" not in json.dumps(valid)
    shown = api.call("GET", "/v1/applicants/me/payout-account", token).json()
    assert (shown["provider"], shown["status"], shown["account_number"]) == ("OVO", "VALID", valid["account_number"])

    wrong_type = api.call(
        "PUT",
        "/v1/applicants/me/payout-account",
        token,
        json={"type": "BANK", "provider": "GOPAY", "account_number": "081234567890"},
    )
    assert (wrong_type.status_code, wrong_type.json()["code"]) == (422, "PROVIDER_TYPE_MISMATCH")
    not_recipient = api.call(
        "PUT",
        "/v1/applicants/me/payout-account",
        api.verified_applicant()[0],
        json={"type": "BANK", "provider": "BNI", "account_number": "1234567890"},
    )
    assert (not_recipient.status_code, not_recipient.json()["code"]) == (403, "NOT_A_RECIPIENT")


def test_the_job_search_incentive_is_paid_once_after_completion_review_and_a_valid_account(api: Api) -> None:
    [token] = api.recipients(1)
    link(api, token, "BNI", "1122334455")
    assert payouts(api, token) == []  # no course completed yet
    complete_and_review(api, token)
    [due] = payouts(api, token)
    assert (due["kind"], due["amount"], due["status"], due["tranche"]) == ("JOB_SEARCH", 600_000, "SCHEDULED", 1)
    before = ledger(api)

    run_payouts(api)

    [paid] = payouts(api, token)
    assert (paid["status"], paid["failure_code"], paid["provider"]) == ("PAID", None, "BNI")
    assert paid["paid_at"] and paid["processing_at"]
    assert api.cloud.payment_partners.paid_amounts()["1122334455"] == 600_000
    after = ledger(api)
    assert after["balanced"] and after["in_transit"] == before["in_transit"]
    paid_out = {a["account"]: a["balance"] for a in after["accounts"]}
    paid_before = {a["account"]: a["balance"] for a in before["accounts"]}
    assert paid_out["PAID_OUT"] - paid_before.get("PAID_OUT", 0) == 600_000

    # A second run finds nothing due; the partner's repeated callback changes nothing.
    run_payouts(api)
    [transfer] = [t for t in api.cloud.payment_partners.transfers("BNI") if t["account_number"] == "1122334455"]
    callback = {"status": "SUCCESS", "reference": transfer["reference"], "failure_code": None}
    repeat = api.partner_call("BNI", f"/v1/partner/payments/{transfer['transfer_id']}/callback", callback)
    assert repeat.status_code == 200 and repeat.json()["status"] == "PAID"
    contradiction = api.partner_call(
        "BNI", f"/v1/partner/payments/{transfer['transfer_id']}/callback", {**callback, "status": "FAILED"}
    )
    assert (contradiction.status_code, contradiction.json()["code"]) == (409, "TRANSFER_ALREADY_SETTLED")
    other_partner = api.partner_call("OVO", f"/v1/partner/payments/{transfer['transfer_id']}/callback", callback)
    assert (other_partner.status_code, other_partner.json()["code"]) == (404, "TRANSFER_NOT_FOUND")
    platform = api.partner_call("PINTARIA", f"/v1/partner/payments/{transfer['transfer_id']}/callback", callback)
    assert (platform.status_code, platform.json()["code"]) == (403, "PAYMENT_PARTNERS_ONLY")
    assert api.cloud.payment_partners.paid_amounts()["1122334455"] == 600_000
    assert [p["status"] for p in payouts(api, token)] == ["PAID"]
    assert ledger(api)["accounts"] == after["accounts"]


def test_survey_incentives_follow_the_scheme(api: Api) -> None:
    [token] = api.recipients(1)  # the 2023 scheme pays two surveys of Rp 50,000
    answers = {"answers": [{"question_id": "q1", "answer": "Sangat bermanfaat"}]}
    early = api.call("POST", "/v1/surveys/post-training/responses", token, json=answers)
    assert (early.status_code, early.json()["code"]) == (409, "TRAINING_NOT_COMPLETED")
    complete_and_review(api, token)  # no payout account yet: nothing is granted
    assert payouts(api, token) == []

    first = api.call("POST", "/v1/surveys/post-training/responses", token, json=answers)
    assert first.status_code == 201, first.text
    assert (first.json()["incentive"]["kind"], first.json()["incentive"]["amount"]) == ("SURVEY", 50_000)
    again = api.call("POST", "/v1/surveys/post-training/responses", token, json=answers)
    assert (again.status_code, again.json()["code"]) == (409, "SURVEY_ALREADY_ANSWERED")
    assert api.call("POST", "/v1/surveys/employment-3m/responses", token, json=answers).json()["incentive"]
    unpaid = api.call("POST", "/v1/surveys/employment-6m/responses", token, json=answers)
    assert unpaid.status_code == 201 and unpaid.json()["incentive"] is None  # a third survey earns nothing in 2023
    unknown = api.call("POST", "/v1/surveys/nope/responses", token, json=answers)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "SURVEY_NOT_FOUND")

    run_payouts(api)
    assert {p["status"] for p in payouts(api, token)} == {"SCHEDULED"}  # waiting for a valid account

    link(api, token, "GOPAY", "085711112222")  # valid: the job-search incentive too, and all become due
    run_payouts(api)
    paid = payouts(api, token)
    assert sorted((p["kind"], p["status"]) for p in paid) == [
        ("JOB_SEARCH", "PAID"),
        ("SURVEY", "PAID"),
        ("SURVEY", "PAID"),
    ]
    assert api.cloud.payment_partners.paid_amounts()["085711112222"] == 700_000
