"""Idempotency-Key: a repeat with the same key and body returns the first answer and has no
second effect; the same key with another body is refused."""

from __future__ import annotations

import uuid

from tests.e2e.conftest import Api


def test_repeated_registration_with_a_key_returns_the_first_answer(api: Api) -> None:
    body = api.person()
    token = api.token()
    key = {"Idempotency-Key": f"register-{uuid.uuid4()}"}
    first = api.call("POST", "/v1/applicants", token, json=body, headers=key)
    assert first.status_code == 201, first.text
    # Profiles only: the registration workflow meanwhile adds the family card's place.
    profiles_after_first = api.profiles()

    repeat = api.call("POST", "/v1/applicants", token, json=body, headers=key)
    assert repeat.status_code == 201
    assert repeat.json() == first.json()
    assert api.profiles() == profiles_after_first

    without_key = api.call("POST", "/v1/applicants", token, json=body)
    assert without_key.status_code == 409 and without_key.json()["code"] == "PROFILE_EXISTS"


def test_same_key_with_another_body_is_refused(api: Api) -> None:
    token = api.token()
    key = {"Idempotency-Key": f"register-{uuid.uuid4()}"}
    assert api.call("POST", "/v1/applicants", token, json=api.person(), headers=key).status_code == 201
    other = api.call("POST", "/v1/applicants", token, json=api.person(), headers=key)
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_a_key_is_per_account(api: Api) -> None:
    key = {"Idempotency-Key": f"shared-{uuid.uuid4()}"}
    one = api.call("POST", "/v1/applicants", api.token(), json=api.person(), headers=key)
    two = api.call("POST", "/v1/applicants", api.token(), json=api.person(), headers=key)
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json()["applicant_id"] != two.json()["applicant_id"]


def test_malformed_key_is_422(api: Api) -> None:
    response = api.call("POST", "/v1/applicants", api.token(), json=api.person(), headers={"Idempotency-Key": "x"})
    assert response.status_code == 422 and response.json()["code"] == "IDEMPOTENCY_KEY_INVALID"


def test_repeated_assessment_with_a_key_counts_one_attempt(api: Api) -> None:
    token, _ = api.register(api.person())
    answers = api.call("GET", "/_local/assessment-key").json()
    key = {"Idempotency-Key": f"assessment-{uuid.uuid4()}"}
    for _ in range(2):
        response = api.call("POST", "/v1/applicants/me/assessment", token, json=answers, headers=key)
        assert response.json() == {"score": 100, "passed": True}
    assert api.call("GET", "/v1/applicants/me", token).json()["assessment"]["attempts"] == 1
