"""Waves: ops create them; verified, assessed applicants join one at a time."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import Api


def wave_body(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    seed = secrets.token_hex(16)
    body = {
        "name": "Gelombang uji",
        "opens_at": (now - timedelta(hours=1)).isoformat(),
        "closes_at": (now + timedelta(days=3)).isoformat(),
        "quota_total": 100,
        "quotas": {"32": 40, "31": 20},
        "scheme": "2023",
        "seed_commitment": hashlib.sha256(seed.encode()).hexdigest(),
    }
    return {**body, **overrides}


@pytest.fixture(scope="module")
def ops(api: Api) -> str:
    return api.token("wave-ops@example.com", ["ops"])


def create_wave(api: Api, ops: str, **overrides: Any) -> str:
    created = api.call("POST", "/v1/ops/waves", ops, json=wave_body(**overrides))
    assert created.status_code == 201, created.text
    return str(created.json()["wave_id"])


def verified_and_assessed(api: Api) -> str:
    return api.verified_applicant()[0]


def test_ops_create_a_wave_that_applicants_see_open(api: Api, ops: str) -> None:
    wave_id = create_wave(api, ops)
    token = api.token()
    listed = api.call("GET", "/v1/waves", token).json()
    assert wave_id in [w["wave_id"] for w in listed["items"]]
    mine = next(w for w in listed["items"] if w["wave_id"] == wave_id)
    assert mine["status"] == "OPEN" and mine["quotas"] == {"32": 40, "31": 20}

    future = create_wave(api, ops, opens_at=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    assert future not in [w["wave_id"] for w in api.call("GET", "/v1/waves", token).json()["items"]]


def test_wave_list_pages(api: Api, ops: str) -> None:
    for _ in range(3):
        create_wave(api, ops)
    token = api.token()
    first = api.call("GET", "/v1/waves?limit=2", token).json()
    assert len(first["items"]) <= 2 and first["next_token"]
    second = api.call("GET", f"/v1/waves?limit=2&next_token={first['next_token']}", token).json()
    assert not {w["wave_id"] for w in first["items"]} & {w["wave_id"] for w in second["items"]}
    bad = api.call("GET", "/v1/waves?next_token=forged", token)
    assert bad.status_code == 422 and bad.json()["code"] == "NEXT_TOKEN_INVALID"
    assert api.call("GET", "/v1/waves?limit=201", token).status_code == 422


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"quotas": {"32": 80, "31": 30}}, "QUOTAS_EXCEED_TOTAL"),
        ({"quotas": {"99": 1}}, "PROVINCE_UNKNOWN"),
        ({"seed_commitment": "not-a-hash"}, "SEED_COMMITMENT_INVALID"),
        ({"scheme": "1999"}, "SCHEME_UNKNOWN"),
        ({"closes_at": "2020-01-01T00:00:00Z"}, "WAVE_DATES_INVALID"),
        ({"quota_total": 0}, "INVALID_VALUE"),
    ],
)
def test_invalid_waves_are_refused(api: Api, ops: str, change: dict[str, Any], code: str) -> None:
    response = api.call("POST", "/v1/ops/waves", ops, json=wave_body(**change))
    assert response.status_code == 422 and response.json()["code"] == code, response.text


def test_applicants_cannot_manage_waves(api: Api, ops: str) -> None:
    applicant = api.token()
    assert api.call("POST", "/v1/ops/waves", applicant, json=wave_body()).json()["code"] == "OPS_ONLY"
    wave_id = create_wave(api, ops)
    assert api.call("GET", f"/v1/ops/waves/{wave_id}", applicant).status_code == 403


def test_joining_a_wave_and_every_refusal(api: Api, ops: str) -> None:
    wave_id = create_wave(api, ops)
    other_wave = create_wave(api, ops)
    closed_wave = create_wave(
        api,
        ops,
        opens_at=(datetime.now(UTC) + timedelta(days=1)).isoformat(),
        closes_at=(datetime.now(UTC) + timedelta(days=2)).isoformat(),
    )

    rejected, _ = api.register(api.person(in_registry=False))
    api.wait_for_decision(rejected)
    assert api.call("POST", f"/v1/waves/{wave_id}/join", rejected).json()["code"] == "NOT_VERIFIED"

    not_assessed, _ = api.register(api.person())
    api.wait_for_decision(not_assessed)
    assert api.call("POST", f"/v1/waves/{wave_id}/join", not_assessed).json()["code"] == "ASSESSMENT_REQUIRED"

    token = verified_and_assessed(api)
    assert api.call("POST", f"/v1/waves/{closed_wave}/join", token).json()["code"] == "WAVE_CLOSED"
    assert api.call("POST", "/v1/waves/wave-unknown/join", token).json()["code"] == "WAVE_NOT_FOUND"
    joined = api.call("POST", f"/v1/waves/{wave_id}/join", token)
    assert joined.status_code == 200 and joined.json() == {"status": "IN_WAVE", "wave_id": wave_id}
    again = api.call("POST", f"/v1/waves/{other_wave}/join", token)
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_IN_WAVE"
    profile = api.call("GET", "/v1/applicants/me", token).json()
    assert (profile["status"], profile["wave_id"]) == ("IN_WAVE", wave_id)
    no_profile = api.call("POST", f"/v1/waves/{wave_id}/join", api.token())
    assert no_profile.status_code == 404 and no_profile.json()["code"] == "PROFILE_NOT_FOUND"


def test_ops_see_joined_counts_per_province(api: Api, ops: str) -> None:
    wave_id = create_wave(api, ops)
    for _ in range(2):
        token = verified_and_assessed(api)
        assert api.call("POST", f"/v1/waves/{wave_id}/join", token).status_code == 200
    status = api.call("GET", f"/v1/ops/waves/{wave_id}", ops).json()
    assert status["status"] == "OPEN"
    assert status["provinces"] == {"32": {"joined": 2, "eligible": None, "selected": None}}
    assert api.call("GET", "/v1/ops/waves/wave-missing", ops).status_code == 404


def test_parallel_joins_of_one_applicant_count_once(api: Api, ops: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    waves = [create_wave(api, ops) for _ in range(3)]
    token = verified_and_assessed(api)
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda w: api.call("POST", f"/v1/waves/{w}/join", token), waves * 2))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 5
    joined = [w for w in waves if api.call("GET", f"/v1/ops/waves/{w}", ops).json()["provinces"]]
    assert len(joined) == 1
