"""The load test, short: Locust headless against a local runtime of its own, with the mix of
all three scenarios. It checks that the scenarios work (every route exercised, no failure,
registrations decided and stored), not how fast: the figures are printed, not asserted.

Locust runs in a subprocess: its gevent monkey-patching would change threads and sockets
under the runtime and the rest of the test run."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e
REPO_ROOT = Path(__file__).resolve().parents[2]
USERS = 5  # by weight: 3 registration surge, 1 wave joiner, 1 buyer
SECONDS = 20
# Users finish the journey they are in when the time is up, so that a slow machine still
# completes each scenario's first one (the buyer buys first of all).
STOP_TIMEOUT = 120
RECIPIENTS = 1  # the buyer's card: one draw, however many, and a draw takes a while locally
# Each scenario's own routes, as the locustfile names them.
SCENARIO_ROUTES = {
    "RegistrationSurge": {
        ("POST", "/v1/applicants"),
        ("GET", "/v1/applicants/me"),
        ("JOURNEY", "registration VERIFIED"),
    },
    "WaveJoiner": {
        ("GET", "/v1/assessment"),
        ("POST", "/v1/applicants/me/assessment"),
        ("GET", "/v1/waves"),
        ("POST", "/v1/waves/{wave_id}/join"),
    },
    "Buyer": {("GET", "/v1/trainings"), ("POST", "/v1/purchases")},
}
# Outcomes counted apart from their route, and not failures: throttles and a spent balance.
EXPECTED_OUTCOME = re.compile(r".* \[(429 [A-Z_]+|409 (INSUFFICIENT_BALANCE|CARD_REVOKED))\]")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def run_locust(url: str, results: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOADTEST_")}
    env |= {"LOADTEST_TARGET": "local", "LOADTEST_LOCAL_RECIPIENTS": str(RECIPIENTS)}
    command = [
        *(sys.executable, "-m", "locust", "-f", "loadtest/locustfile.py", "--headless", "--host", url),
        *("-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s", "--stop-timeout", str(STOP_TIMEOUT)),
        *("--csv", str(results), "--only-summary"),
    ]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=480, check=False)


def test_the_mix_runs_against_the_local_runtime(api: Api, tmp_path: Path) -> None:
    profiles_before = api.profiles()
    started = time.monotonic()
    locust = run_locust(api.url, tmp_path / "smoke")
    wall = time.monotonic() - started
    assert locust.returncode == 0, locust.stderr[-4000:]

    stats = [row for row in read_csv(tmp_path / "smoke_stats.csv") if row["Name"] != "Aggregated"]
    set_up = re.search(r"local program ready in ([0-9.]+) s", locust.stderr)
    print(
        f"\nruntime start {api.cloud.startup_seconds:.1f} s; Locust {wall:.1f} s: "
        f"set-up {set_up.group(1) if set_up else '?'} s, {SECONDS} s of load, then the journeys under way"
    )
    print(f"{'type':8} {'name':58} {'requests':>8} {'failures':>8} {'median ms':>9} {'p95 ms':>7}")
    for row in stats:
        print(
            f"{row['Type']:8} {row['Name']:58} {row['Request Count']:>8} {row['Failure Count']:>8}"
            f" {row['50%']:>9} {row['95%']:>7}"
        )

    exercised = {(row["Type"], row["Name"]) for row in stats if int(row["Request Count"]) > 0}
    for scenario, routes in SCENARIO_ROUTES.items():
        assert routes <= exercised, f"{scenario} did not exercise {sorted(routes - exercised)}"
    # Any 5xx, unexpected 4xx, connection error or timed-out decision is a failure.
    assert read_csv(tmp_path / "smoke_failures.csv") == []
    assert read_csv(tmp_path / "smoke_exceptions.csv") == []  # errors in the scenarios' own code
    assert all(int(row["Failure Count"]) == 0 for row in stats)
    outcomes = {row["Name"] for row in stats if "[" in row["Name"]}
    assert all(EXPECTED_OUTCOME.fullmatch(name) for name in outcomes), outcomes

    # Every 201 left a profile: the run's registrations plus the recipients made for it.
    registered = next(int(r["Request Count"]) for r in stats if (r["Type"], r["Name"]) == ("POST", "/v1/applicants"))
    assert api.profiles() - profiles_before >= registered + RECIPIENTS
