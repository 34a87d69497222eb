"""Browsers on the web apps' origins (the dev stage's web_origins) may call the API: API Gateway
answers their preflights, and every answer to them, the gateway's own problems included, names
their origin; an origin not on the list gets no Access-Control-Allow-Origin from the functions."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

WEB_APP = "http://localhost:5173"  # the dev stage's first origin
OTHER_WEB_APP = "http://127.0.0.1:5173"
UNKNOWN = "https://evil.example"
EXPOSED = {"retry-after", "x-amzn-requestid"}


def _names(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


def _assert_cors(response: requests.Response, origin: str) -> None:
    assert response.headers.get("Access-Control-Allow-Origin") == origin, response.headers
    assert _names(response.headers.get("Access-Control-Expose-Headers")) == EXPOSED
    assert "origin" in _names(response.headers.get("Vary"))
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize("origin", [WEB_APP, OTHER_WEB_APP])
def test_the_registration_preflight_allows_the_web_app(api: Api, origin: str) -> None:
    preflight = api.call(
        "OPTIONS",
        "/v1/applicants",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 204, preflight.text
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert "post" in _names(preflight.headers["Access-Control-Allow-Methods"])
    assert {"authorization", "content-type"} <= _names(preflight.headers["Access-Control-Allow-Headers"])
    assert _names(preflight.headers.get("Access-Control-Expose-Headers")) == EXPOSED
    assert int(preflight.headers["Access-Control-Max-Age"]) > 0
    assert "origin" in _names(preflight.headers.get("Vary"))


def test_a_preflight_from_an_unknown_origin_names_another_origin(api: Api) -> None:
    """API Gateway's mock cannot leave the header out: it names the first origin, and the
    browser, seeing it is not its own, refuses the call."""
    preflight = api.call(
        "OPTIONS", "/v1/applicants", headers={"Origin": UNKNOWN, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == WEB_APP


@pytest.mark.parametrize("origin", [WEB_APP, OTHER_WEB_APP])
def test_a_public_call_names_the_web_app(api: Api, origin: str) -> None:
    health = api.call("GET", "/v1/health", headers={"Origin": origin})
    assert health.status_code == 200, health.text
    _assert_cors(health, origin)


@pytest.mark.parametrize("origin", [WEB_APP, OTHER_WEB_APP])
def test_authenticated_calls_and_their_problems_name_the_web_app(api: Api, origin: str) -> None:
    token = api.token()
    profile = api.call("GET", "/v1/applicants/me", token, headers={"Origin": origin})
    assert profile.status_code in (200, 404), profile.text
    _assert_cors(profile, origin)
    invalid = api.call("POST", "/v1/applicants", token, headers={"Origin": origin}, json={"nik": "1"})
    assert invalid.status_code == 422, invalid.text
    assert invalid.headers["Content-Type"] == "application/problem+json"
    _assert_cors(invalid, origin)
    # Refused by the function before routing: the body limit, and an ops route for an applicant.
    too_large = api.call(
        "POST",
        "/v1/applicants",
        token,
        headers={"Origin": origin, "Content-Type": "application/json"},
        data=b'{"x": "' + b"a" * (64 * 1024) + b'"}',
    )
    assert too_large.status_code == 413, too_large.text
    _assert_cors(too_large, origin)
    not_ops = api.call("GET", "/v1/ops/waves", token, headers={"Origin": origin})
    assert not_ops.status_code == 403, not_ops.text
    _assert_cors(not_ops, origin)


def test_the_gateways_own_problems_name_the_web_app(api: Api) -> None:
    without_token = api.call("GET", "/v1/applicants/me", headers={"Origin": WEB_APP})
    assert without_token.status_code == 401, without_token.text
    assert without_token.headers["Content-Type"] == "application/problem+json"
    _assert_cors(without_token, WEB_APP)
    unknown_route = api.call("GET", "/v1/no-such-route", headers={"Origin": WEB_APP})
    assert unknown_route.status_code == 404
    _assert_cors(unknown_route, WEB_APP)


def test_an_unknown_origin_gets_no_allow_origin_from_the_functions(api: Api) -> None:
    token = api.token()
    for response in (
        api.call("GET", "/v1/health", headers={"Origin": UNKNOWN}),
        api.call("GET", "/v1/applicants/me", token, headers={"Origin": UNKNOWN}),
        api.call("POST", "/v1/applicants", token, headers={"Origin": UNKNOWN}, json={"nik": "1"}),
        api.call("GET", "/v1/ops/waves", token, headers={"Origin": UNKNOWN}),
    ):
        assert response.status_code < 500, response.text
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Access-Control-Expose-Headers" not in response.headers
        assert "origin" in _names(response.headers.get("Vary"))


def test_a_call_without_origin_gets_no_allow_origin(api: Api) -> None:
    health = api.call("GET", "/v1/health")
    assert health.status_code == 200
    assert "Access-Control-Allow-Origin" not in health.headers
