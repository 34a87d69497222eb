"""End-to-end tests: HTTP against the local runtime started from the synthesized template,
with the real handlers, the real state machine definition and the simulated registry."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests

from loadtest.program import wave_request
from localcloud import LocalCloud
from synth import ensure_synthesized
from tests.factories import build_kk, build_nik, valid_registration

_serials = itertools.count(1000)
_accounts = itertools.count(1)


@pytest.fixture(scope="package")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """One runtime for the whole e2e package (moto's state is per process)."""
    runtime = LocalCloud(ensure_synthesized("dev"), api_port=0, state_dir=tmp_path_factory.mktemp("local"))
    runtime.start()
    runtime.seed_demo()
    try:
        yield runtime
    finally:
        runtime.stop()


class Api:
    """A small client of the local API, with the journey's steps as helpers."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.url = cloud.api_url

    def token(self, email: str | None = None, groups: list[str] | None = None) -> str:
        email = email or f"applicant{next(_accounts)}@example.com"
        response = requests.post(f"{self.url}/_local/tokens", json={"email": email, "groups": groups or []}, timeout=30)
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)

    def person(self, *, in_registry: bool = True, **overrides: Any) -> dict[str, Any]:
        """A valid registration body with a fresh NIK, added to the civil registry."""
        body = valid_registration(**overrides)
        if "nik" not in overrides:
            dob = date.fromisoformat(body["date_of_birth"])
            body["nik"] = build_nik(dob=dob, gender=body["gender"], serial=next(_serials))
        if "kk_number" not in overrides:
            body["kk_number"] = build_kk(serial=next(_serials))
        if in_registry:
            resident = {k: body[k] for k in ("nik", "kk_number", "full_name", "date_of_birth", "gender")}
            added = requests.post(f"{self.url}/_local/population", json={"residents": [resident]}, timeout=30)
            assert added.status_code in (200, 201), added.text
        return body

    def register(self, body: dict[str, Any], token: str | None = None) -> tuple[str, requests.Response]:
        token = token or self.token()
        return token, self.call("POST", "/v1/applicants", token, json=body)

    def wait_for_decision(self, token: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            profile = self.call("GET", "/v1/applicants/me", token).json()
            if profile["status"] != "VERIFYING" or time.monotonic() > deadline:
                return dict(profile)
            time.sleep(0.2)

    def verified_applicant(self, **overrides: Any) -> tuple[str, dict[str, Any]]:
        """A registered applicant, VERIFIED and past the assessment: (token, registration body)."""
        body = self.person(**overrides)
        token, created = self.register(body)
        assert created.status_code == 201, created.text
        assert self.wait_for_decision(token)["status"] == "VERIFIED"
        key = self.call("GET", "/_local/assessment-key").json()
        assert self.call("POST", "/v1/applicants/me/assessment", token, json=key).json()["passed"]
        return token, body

    def open_wave(
        self,
        ops: str,
        seed: str,
        *,
        quota_total: int,
        quotas: dict[str, int] | None = None,
        scheme: str = "2023",
        name: str = "Gelombang penerima",
    ) -> str:
        """An open wave (since an hour ago, for three days) committed to ``seed``; its id."""
        body = wave_request(name, seed, quota_total, quotas, scheme=scheme)
        wave = self.call("POST", "/v1/ops/waves", ops, json=body)
        assert wave.status_code == 201, wave.text
        return str(wave.json()["wave_id"])

    def recipients(self, count: int, scheme: str = "2023") -> list[str]:
        """Tokens of ``count`` applicants selected in a wave of their own, each with a card."""
        ops = self.token("recipients-ops@example.com", ["ops"])
        seed = f"recipients-seed-{next(_serials):08d}"
        wave_id = self.open_wave(ops, seed, quota_total=count, scheme=scheme)
        tokens = [self.verified_applicant()[0] for _ in range(count)]
        for token in tokens:
            assert self.call("POST", f"/v1/waves/{wave_id}/join", token).status_code == 200
        closed = self.call("POST", f"/v1/ops/waves/{wave_id}/close", ops, json={"seed": seed})
        assert closed.status_code == 202, closed.text
        self.cloud.wait_for_executions("SelectionWorkflow", timeout=240)
        for token in tokens:
            assert self.call("GET", "/v1/applicants/me", token).json()["status"] == "SELECTED"
        return tokens

    def partner_secret(self, partner_id: str) -> str:
        partners = self.call("GET", "/_local/partners").json()
        return next(str(p["secret"]) for p in partners if p["partner_id"] == partner_id)

    def partner_call(
        self,
        partner_id: str,
        path: str,
        body: dict[str, Any],
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        signed_body: bytes | None = None,
    ) -> requests.Response:
        """A call signed as API.md says: HMAC-SHA256 of "<timestamp>.<raw body>" with the secret."""
        raw = json.dumps(body).encode()
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        key = (secret or self.partner_secret(partner_id)).encode()
        mac = hmac.new(key, stamp.encode() + b"." + (signed_body if signed_body is not None else raw), hashlib.sha256)
        headers = {
            "X-Partner-Id": partner_id,
            "X-Timestamp": stamp,
            "X-Signature": f"sha256={mac.hexdigest()}",
            "Content-Type": "application/json",
        }
        return requests.post(f"{self.url}{path}", data=raw, headers=headers, timeout=60)

    def profiles(self) -> int:
        table = str(self.cloud.resources.find("DataApplicantsTable", "AWS::DynamoDB::Table").ref)
        return int(
            self.cloud.boto3_client("dynamodb").scan(
                TableName=table,
                Select="COUNT",
                FilterExpression="sk = :profile",
                ExpressionAttributeValues={":profile": {"S": "PROFILE"}},
            )["Count"]
        )

    def table_items(self, prefix: str) -> int:
        table = str(self.cloud.resources.find(prefix, "AWS::DynamoDB::Table").ref)
        return int(self.cloud.boto3_client("dynamodb").scan(TableName=table, Select="COUNT")["Count"])


@pytest.fixture(scope="package")
def api(cloud: LocalCloud) -> Api:
    return Api(cloud)


def log_files(cloud: LocalCloud) -> list[Path]:
    return sorted((cloud.state_dir / "logs").glob("*.log"))
