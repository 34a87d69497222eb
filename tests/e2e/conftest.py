"""End-to-end tests: HTTP against the local runtime started from the synthesized template,
with the real handlers, the real state machine definition and the simulated registry."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests

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
