"""The abuse limits the handlers enforce, locally as on AWS: a script probing NIKs through
registration, searching the assessment's answers or guessing voucher codes is stopped with a
429 problem and told when to come back; other callers are not affected.

(Runs after the authorization matrix and the fuzzing in this package's runtime: it uses up
one platform's voucher lookups for the hour.)"""

from __future__ import annotations

from typing import Any

import requests

from prakerja.limits import ATTEMPT_LIMITS, Attempt
from tests.e2e.conftest import Api


def _refused(response: requests.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "TOO_MANY_ATTEMPTS"
    assert 0 < int(response.headers["Retry-After"]) <= 3600


def test_probing_nik_registrations_is_stopped(api: Api) -> None:
    registered = api.person()
    _, created = api.register(registered)
    assert created.status_code == 201
    prober = api.token()
    for _ in range(ATTEMPT_LIMITS[Attempt.REGISTRATION].attempts):
        answer = api.call("POST", "/v1/applicants", prober, json=registered)
        assert answer.json()["code"] == "NIK_ALREADY_REGISTERED"  # the oracle the limit is for
    _refused(api.call("POST", "/v1/applicants", prober, json=registered))
    # Someone else registers as usual.
    assert api.register(api.person())[1].status_code == 201


def test_searching_the_assessment_answers_is_stopped(api: Api) -> None:
    token, _ = api.verified_applicant()  # one submission, passed
    wrong = {"answers": [{"question_id": "q01", "option_id": "a"}]}
    for _ in range(ATTEMPT_LIMITS[Attempt.ASSESSMENT].attempts - 1):
        assert api.call("POST", "/v1/applicants/me/assessment", token, json=wrong).status_code == 200
    _refused(api.call("POST", "/v1/applicants/me/assessment", token, json=wrong))


def test_guessing_voucher_codes_blocks_the_platform_for_the_window(api: Api) -> None:
    [token] = api.recipients(1)
    courses = api.call("GET", "/v1/trainings?limit=200", token).json()["items"]
    platform = max(c["platform"] for c in courses)
    course = next(c for c in courses if c["platform"] == platform)
    bought = api.call("POST", "/v1/purchases", token, json={"training_id": course["training_id"]})
    assert bought.status_code == 201, bought.text
    real: dict[str, Any] = {"voucher_code": bought.json()["voucher_code"]}
    for n in range(ATTEMPT_LIMITS[Attempt.VOUCHER_MISS].attempts):
        guess = api.partner_call(platform, "/v1/partner/redemptions", {"voucher_code": f"0000-0000-0000-{n:04d}"})
        assert guess.status_code == 404, guess.text
    _refused(api.partner_call(platform, "/v1/partner/redemptions", {"voucher_code": "0000-0000-0000-ZZZZ"}))
    # Blocked for hits too: a blocked guesser cannot tell a real code from a wrong one.
    _refused(api.partner_call(platform, "/v1/partner/redemptions", real))
    other = next(c["platform"] for c in courses if c["platform"] != platform)
    assert api.partner_call(other, "/v1/partner/redemptions", real).status_code == 404  # others unaffected
