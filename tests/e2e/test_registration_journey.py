"""The applicant journey through the real API and workflow: register, get verified or
rejected with reasons, take the assessment."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.e2e.conftest import Api


def test_health_and_openapi_are_public(api: Api) -> None:
    health = api.call("GET", "/v1/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    document = api.call("GET", "/v1/openapi.json").json()
    assert "/v1/applicants" in document["paths"]


def test_a_resident_registers_and_becomes_verified(api: Api) -> None:
    body = api.person(full_name="Dewi Lestari", gender="F")
    token, created = api.register(body)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "VERIFYING"
    applicant_id = created.json()["applicant_id"]

    profile = api.wait_for_decision(token)
    assert profile["status"] == "VERIFIED", profile
    assert profile["applicant_id"] == applicant_id
    assert profile["reasons"] == []
    assert profile["nik"] == body["nik"][:2] + "*" * 10 + body["nik"][-4:]
    assert body["nik"] not in str(profile) and body["kk_number"] not in str(profile)
    assert profile["full_name"] == "Dewi Lestari"


def test_rejections_carry_every_reason(api: Api) -> None:
    token, created = api.register(api.person(in_registry=False, date_of_birth="2011-02-03"))
    assert created.status_code == 201
    profile = api.wait_for_decision(token)
    assert profile["status"] == "REJECTED"
    assert set(profile["reasons"]) == {"NIK_NOT_FOUND", "UNDERAGE"}


def test_name_not_matching_the_registry_is_an_identity_mismatch(api: Api) -> None:
    body = api.person()
    token, _ = api.register({**body, "full_name": "Someone Else"})
    assert api.wait_for_decision(token)["reasons"] == ["IDENTITY_MISMATCH"]


def test_one_profile_per_nik_and_per_account(api: Api) -> None:
    body = api.person()
    token, first = api.register(body)
    assert first.status_code == 201
    again = api.call("POST", "/v1/applicants", token, json=api.person())
    assert again.status_code == 409 and again.json()["code"] == "PROFILE_EXISTS"
    _, other = api.register(body)
    assert other.status_code == 409 and other.json()["code"] == "NIK_ALREADY_REGISTERED"
    assert other.headers["Content-Type"].startswith("application/problem+json")


def test_twenty_parallel_registrations_of_one_nik_give_exactly_one_profile(api: Api) -> None:
    body = api.person()
    tokens = [api.token() for _ in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda t: api.call("POST", "/v1/applicants", t, json=body), tokens))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"NIK_ALREADY_REGISTERED"}


def test_third_person_on_one_family_card_is_rejected(api: Api) -> None:
    kk = api.person()["kk_number"]
    tokens = []
    for _ in range(3):
        token, created = api.register(api.person(kk_number=kk))
        assert created.status_code == 201
        tokens.append(token)
        api.wait_for_decision(token)  # one after another: which one is third is then known
    outcomes = [api.wait_for_decision(t) for t in tokens]
    assert [o["status"] for o in outcomes] == ["VERIFIED", "VERIFIED", "REJECTED"]
    assert outcomes[2]["reasons"] == ["KK_LIMIT_REACHED"]


def test_registry_outage_is_retried_by_the_workflow(api: Api) -> None:
    outage = requests.post(f"{api.url}/_local/dukcapil/outage", json={"fail_next": 1}, timeout=10)
    assert outage.status_code in (200, 202), outage.text
    token, created = api.register(api.person())
    assert created.status_code == 201
    assert api.wait_for_decision(token, timeout=90)["status"] == "VERIFIED"


def test_assessment_can_be_failed_retaken_and_passed(api: Api) -> None:
    token, _ = api.register(api.person())
    assessment = api.call("GET", "/v1/assessment", token).json()
    assert assessment["questions"] and "correct" not in str(assessment).lower()
    key = api.call("GET", "/_local/assessment-key").json()
    right = {a["question_id"]: a["option_id"] for a in key["answers"]}
    wrong = [
        {
            "question_id": q["question_id"],
            "option_id": next(o["option_id"] for o in q["options"] if o["option_id"] != right[q["question_id"]]),
        }
        for q in assessment["questions"]
    ]
    failed = api.call("POST", "/v1/applicants/me/assessment", token, json={"answers": wrong})
    assert failed.status_code == 200 and failed.json() == {"score": 0, "passed": False}
    passed = api.call("POST", "/v1/applicants/me/assessment", token, json=key)
    assert passed.json() == {"score": 100, "passed": True}
    assert api.call("GET", "/v1/applicants/me", token).json()["assessment"]["attempts"] == 2


def test_exclusion_lists_are_for_ops_and_are_honoured_by_screening(api: Api) -> None:
    body = api.person()
    applicant_token = api.token()
    refused = api.call("POST", "/v1/ops/exclusion-lists/ASN", applicant_token, json={"niks": [body["nik"]]})
    assert refused.status_code == 403 and refused.json()["code"] == "OPS_ONLY"

    ops = api.token("ops@example.com", ["ops"])
    imported = api.call("POST", "/v1/ops/exclusion-lists/ASN", ops, json={"niks": [body["nik"]]})
    assert imported.status_code == 200 and imported.json() == {"source": "ASN", "received": 1, "stored": 1}
    unknown = api.call("POST", "/v1/ops/exclusion-lists/ASTRONAUTS", ops, json={"niks": [body["nik"]]})
    assert unknown.status_code == 404 and unknown.json()["code"] == "EXCLUSION_LIST_UNKNOWN"

    token, _ = api.register(body, applicant_token)
    assert api.wait_for_decision(token)["reasons"] == ["EXCLUDED_OCCUPATION"]
