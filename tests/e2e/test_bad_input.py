"""Bad input gets an RFC 9457 problem with a stable code, never a 5xx, and writes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import date
from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.factories import build_nik


def _problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    assert body["title"] and body["detail"] and body["type"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"nik": "320123170595000"}, "NIK_INVALID"),  # 15 digits
        ({"nik": "32012317059500011"}, "NIK_INVALID"),  # 17 digits
        ({"nik": "32O1231705950001"}, "NIK_INVALID"),  # a letter O
        ({"nik": 3201231705950001}, "INVALID_VALUE"),  # a number, not a string
        (
            {"nik": build_nik(dob=date(1995, 5, 17)).replace("1705", "3102")},  # 31 February
            "NIK_BIRTH_DATE_INVALID",
        ),
        ({"date_of_birth": "1995-02-30"}, "DATE_OF_BIRTH_INVALID"),
        ({"date_of_birth": "1996-05-17", "nik": build_nik()}, "NIK_BIRTH_DATE_MISMATCH"),
        ({"gender": "F", "nik": build_nik()}, "NIK_GENDER_MISMATCH"),
        ({"province_code": "99"}, "PROVINCE_UNKNOWN"),
        ({"phone": "12345"}, "PHONE_INVALID"),
        ({"favourite_colour": "blue"}, "UNKNOWN_FIELD"),
        ({"nik": None}, "INVALID_VALUE"),
    ],
)
def test_invalid_registration_is_422_with_its_code_and_writes_nothing(
    api: Api, change: dict[str, Any], code: str
) -> None:
    body = api.person(in_registry=False)
    before = api.table_items("DataApplicantsTable")
    _, response = api.register({**body, **change})
    _problem(response, 422, code)
    assert all("3201" not in e["message"] for e in response.json().get("errors", []))  # no NIK echoed
    assert api.table_items("DataApplicantsTable") == before


def test_missing_field_is_field_required(api: Api) -> None:
    body = api.person(in_registry=False)
    del body["kk_number"]
    _, response = api.register(body)
    _problem(response, 422, "FIELD_REQUIRED")
    assert response.json()["errors"][0]["field"] == "kk_number"


def test_malformed_json_is_400(api: Api) -> None:
    response = api.call(
        "POST", "/v1/applicants", api.token(), data="{not json", headers={"Content-Type": "application/json"}
    )
    _problem(response, 400, "MALFORMED_JSON")


def test_a_body_that_is_not_utf8_is_400_not_a_server_error(api: Api) -> None:
    # Found by the API fuzzing: Powertools' JSON decoding failed on it with a 500.
    token = api.token()
    for path in ("/v1/applicants", "/v1/purchases", "/v1/applicants/me/assessment"):
        response = api.call("POST", path, token, data=b"\xd1\x00\xff{", headers={"Content-Type": "application/json"})
        _problem(response, 400, "MALFORMED_JSON")
    raw = b"\xd1\xff{"
    stamp = str(int(time.time()))
    mac = hmac.new(api.partner_secret("SEKOLAHMU").encode(), stamp.encode() + b"." + raw, hashlib.sha256)
    headers = {"X-Partner-Id": "SEKOLAHMU", "X-Timestamp": stamp, "X-Signature": f"sha256={mac.hexdigest()}"}
    _problem(api.call("POST", "/v1/partner/redemptions", data=raw, headers=headers), 400, "MALFORMED_JSON")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_json_body_is_read_as_json_whatever_its_content_type(api: Api, content_type: str | None) -> None:
    # `curl -d` says form-urlencoded; text/plain made Powertools fail with a 500 (found by fuzzing).
    headers = {"Content-Type": content_type} if content_type else {}
    body = json.dumps({"answers": [{"question_id": "q01", "option_id": "zz"}], "extra": 1})
    response = api.call("POST", "/v1/applicants/me/assessment", api.token(), data=body, headers=headers)
    _problem(response, 422, "UNKNOWN_FIELD")  # the JSON was read: its unknown field is named
    assert response.json()["errors"][0]["field"] == "extra"


def test_body_over_64_kib_is_413(api: Api) -> None:
    body = {**api.person(in_registry=False), "full_name": "A" * (65 * 1024)}
    _, response = api.register(body)
    _problem(response, 413, "PAYLOAD_TOO_LARGE")


def test_no_token_is_401(api: Api) -> None:
    _problem(api.call("POST", "/v1/applicants", json=api.person(in_registry=False)), 401, "UNAUTHORIZED")
    _problem(api.call("GET", "/v1/applicants/me"), 401, "UNAUTHORIZED")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_forged_expired_and_unsigned_tokens_are_401(api: Api) -> None:
    real = api.token()
    header, payload, signature = real.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = f"{header}.{_b64({**claims, 'sub': 'someone-else'})}.{signature}"
    expired = f"{header}.{_b64({**claims, 'exp': int(time.time()) - 60})}.{signature}"
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    for token in (forged, expired, unsigned, "garbage"):
        _problem(api.call("GET", "/v1/applicants/me", token), 401, "UNAUTHORIZED")


def test_unknown_route_is_a_404_problem(api: Api) -> None:
    _problem(api.call("GET", "/v1/nothing-here"), 404, "NOT_FOUND")


def test_profile_of_an_account_without_one_is_404(api: Api) -> None:
    _problem(api.call("GET", "/v1/applicants/me", api.token()), 404, "PROFILE_NOT_FOUND")


def test_invalid_assessment_answers_are_422(api: Api) -> None:
    token, _ = api.register(api.person())
    response = api.call(
        "POST", "/v1/applicants/me/assessment", token, json={"answers": [{"question_id": "nope", "option_id": "x"}]}
    )
    _problem(response, 422, "ASSESSMENT_ANSWER_INVALID")
