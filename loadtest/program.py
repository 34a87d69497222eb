"""What the scenarios need of the program besides their own requests: the assessment's passing
answers, the body that opens a wave, and, against the local runtime, an open wave and recipients
made through the ops API (on staging, operations provide them: README)."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import requests

from loadtest.people import Person

# The test as deployed: the shared layer's data file, the same on every stage.
ASSESSMENT_FILE = Path(__file__).resolve().parents[1] / "layers/shared/prakerja/registration/assessment.json"
LOCAL_OPS_EMAIL = "loadtest-ops@example.com"
_TIMEOUT = 60


@cache
def passing_answers() -> dict[str, Any]:
    """The body of `POST /v1/applicants/me/assessment` that scores 100."""
    assessment = json.loads(ASSESSMENT_FILE.read_text(encoding="utf-8"))
    return {
        "answers": [
            {"question_id": q["question_id"], "option_id": q["correct_option_id"]} for q in assessment["questions"]
        ]
    }


def wave_request(
    name: str,
    seed: str,
    quota_total: int,
    quotas: dict[str, int] | None = None,
    *,
    scheme: str = "2023",
    open_for: timedelta = timedelta(days=3),
) -> dict[str, Any]:
    """The body of `POST /v1/ops/waves` for a wave open since an hour ago, committed to ``seed``."""
    now = datetime.now(UTC)
    return {
        "name": name,
        "opens_at": (now - timedelta(hours=1)).isoformat(),
        "closes_at": (now + open_for).isoformat(),
        "quota_total": quota_total,
        "quotas": quotas or {},
        "scheme": scheme,
        "seed_commitment": hashlib.sha256(seed.encode()).hexdigest(),
    }


@dataclass(frozen=True)
class LocalProgram:
    wave_id: str  # open for the run's wave joiners
    recipient_tokens: list[str]  # each with a card


class LocalSetup:
    """Makes, through the local runtime's API, what staging's operators would have made."""

    def __init__(self, host: str) -> None:
        self.host = host.rstrip("/")
        self.http = requests.Session()

    def prepare(self, people: Iterator[Person], recipients: int) -> LocalProgram:
        """An open wave, and `recipients` applicants in a wave of their own, closed at once so
        that all are selected. Waits for the draw: buyers need their cards from the start
        (overlapping it with the run made the draw slower than a short run under the surge)."""
        ops = self.token(LOCAL_OPS_EMAIL, ["ops"])
        wave_id, _ = self.open_wave(ops, "Gelombang uji beban", quota=1_000_000)
        if not recipients:
            return LocalProgram(wave_id, [])
        draw_wave, seed = self.open_wave(ops, "Gelombang penerima uji beban", quota=recipients)
        eligible = (p for p in people if p.employment_status != "STUDENT")
        chosen = [next(eligible) for _ in range(recipients)]
        self.call("POST", "/_local/population", json={"residents": [p.resident() for p in chosen]}, expect=201)
        with ThreadPoolExecutor(recipients) as pool:
            tokens = list(pool.map(lambda p: self.join(p, draw_wave), chosen))
        self.call("POST", f"/v1/ops/waves/{draw_wave}/close", ops, json={"seed": seed}, expect=202)
        self.wait_for_selection(ops, draw_wave)
        return LocalProgram(wave_id, tokens)

    def token(self, email: str, groups: list[str] | None = None) -> str:
        return str(self.call("POST", "/_local/tokens", json={"email": email, "groups": groups or []})["token"])

    def open_wave(self, ops: str, name: str, quota: int) -> tuple[str, str]:
        seed = secrets.token_hex(16)
        wave = wave_request(name, seed, quota, open_for=timedelta(days=7))
        return str(self.call("POST", "/v1/ops/waves", ops, json=wave, expect=201)["wave_id"]), seed

    def join(self, person: Person, wave_id: str) -> str:
        """Registers the person, waits for VERIFIED, passes the assessment, joins: the token."""
        token = self.token(person.account_email)
        self.call("POST", "/v1/applicants", token, json=person.registration(), expect=201)
        deadline = time.monotonic() + 120
        while (status := self.call("GET", "/v1/applicants/me", token)["status"]) == "VERIFYING":
            if time.monotonic() > deadline:
                raise TimeoutError("no registration decision in 120 s")
            time.sleep(0.5)
        if status != "VERIFIED":
            raise RuntimeError(f"a recipient-to-be was {status}")
        self.call("POST", "/v1/applicants/me/assessment", token, json=passing_answers())
        self.call("POST", f"/v1/waves/{wave_id}/join", token)
        return token

    def wait_for_selection(self, ops: str, wave_id: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while self.call("GET", f"/v1/ops/waves/{wave_id}", ops)["status"] != "SELECTED":
            if time.monotonic() > deadline:
                raise TimeoutError(f"wave {wave_id} not SELECTED in {timeout} s")
            time.sleep(0.5)

    def call(self, method: str, path: str, token: str | None = None, *, expect: int = 200, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.request(method, f"{self.host}{path}", headers=headers, timeout=_TIMEOUT, **kwargs)
        if response.status_code != expect:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()
