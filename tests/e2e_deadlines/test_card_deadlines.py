"""The nightly card-deadline workflow, run by `POST /_local/clock` from the template's schedule:
the card unused past its deadline is revoked, its balance returned to the Treasury; the used
card is left alone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e
DAY = 86_400


def sweeps(ran: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The card deadline runs among the scheduled jobs a clock move ran."""
    return [r for r in ran if r["state_machine"].startswith("CardDeadlinesWorkflow")]


def test_moving_the_clock_past_the_deadline_revokes_exactly_the_unused_card(api: Api) -> None:
    ops = api.token("deadline-ops@example.com", ["ops"])
    unused, used = api.recipients(2)  # 2023 scheme: first purchase within 15 days
    courses = api.call("GET", "/v1/trainings?limit=1", used).json()["items"]
    bought = api.call("POST", "/v1/purchases", used, json={"training_id": courses[0]["training_id"]})
    assert bought.status_code == 201, bought.text
    before = api.call("GET", "/v1/ops/ledger", ops).json()

    nothing_due = api.call("POST", "/_local/clock", json={"advance_seconds": 10 * DAY}).json()
    # The nightly run finds no due wave (the payout schedule runs too, with nothing due).
    assert [r["status"] for r in sweeps(nothing_due["ran"])] == ["SUCCEEDED"]
    assert api.call("GET", "/v1/applicants/me", unused).json()["status"] == "SELECTED"

    moved = api.call("POST", "/_local/clock", json={"advance_seconds": 7 * DAY})
    assert moved.status_code == 200, moved.text
    (run,) = sweeps(moved.json()["ran"])
    assert run["state_machine"].startswith("CardDeadlinesWorkflow") and run["status"] == "SUCCEEDED"

    revoked = api.call("GET", "/v1/applicants/me", unused).json()
    assert revoked["status"] == "REVOKED" and revoked["card"]["training_balance"] == 0
    kept = api.call("GET", "/v1/applicants/me", used).json()
    assert kept["status"] == "SELECTED" and kept["card"]["training_balance"] == 3_500_000 - courses[0]["price"]
    after = api.call("GET", "/v1/ops/ledger", ops).json()
    assert after["returned"] - before["returned"] == 3_500_000 and after["balanced"]
    refused = api.call("POST", "/v1/purchases", unused, json={"training_id": courses[0]["training_id"]})
    assert (refused.status_code, refused.json()["code"]) == (409, "CARD_REVOKED")
    notices = api.call("GET", "/_local/outbox").json()["items"]
    assert [m["kind"] for m in notices].count("CARD_REVOKED") == 1

    again = api.call("POST", "/_local/clock", json={"advance_seconds": DAY}).json()
    assert [r["status"] for r in sweeps(again["ran"])] == ["SUCCEEDED"]
    assert {r["status"] for r in again["ran"]} == {"SUCCEEDED"}
    assert api.call("GET", "/v1/ops/ledger", ops).json()["returned"] == after["returned"]  # swept once
