"""tools/ops.py against a runtime where a wave was drawn, another is open, one recipient's payout
failed (the account turned out invalid before the run) and another's was paid: the waves with
their selection execution, the execution SUCCEEDED and its states, the failed payout by code,
the ledger balanced. The commands run in-process (`main([...])`) with their output captured."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.e2e_payouts.journey import complete_and_review, link, ops, payouts, run_payouts
from tools.ops import main

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class World:
    drawn_wave: str
    open_wave: str
    failed_payout: str  # A's: FAILED with ACCOUNT_NOT_VALID
    paid_payout: str  # B's
    failed_token: str  # A's applicant token
    run_arn: str


@pytest.fixture(scope="module")
def world(api: Api) -> World:
    a, b = api.recipients(2)
    waves = api.call("GET", "/v1/ops/waves", ops(api)).json()["items"]
    drawn = next(w["wave_id"] for w in waves if w["status"] == "SELECTED")
    for token, number in ((a, "081234567890"), (b, "1122334455")):
        link(api, token, "OVO" if token is a else "BNI", number)
        complete_and_review(api, token)
    # A's account is replaced by one the partner does not know: the due payout cannot be sent.
    assert link(api, a, "OVO", "0001234567")["status"] == "INVALID"
    run_arn = run_payouts(api)
    [failed], [paid] = payouts(api, a), payouts(api, b)
    assert (failed["status"], failed["failure_code"], paid["status"]) == ("FAILED", "ACCOUNT_NOT_VALID", "PAID")
    open_wave = _open_wave(api)
    return World(drawn, open_wave, failed["payout_id"], paid["payout_id"], a, run_arn)


def _open_wave(api: Api) -> str:
    now = datetime.now(UTC)
    created = api.call(
        "POST",
        "/v1/ops/waves",
        ops(api),
        json={
            "name": "Gelombang terbuka",
            "opens_at": (now - timedelta(hours=1)).isoformat(),
            "closes_at": (now + timedelta(days=7)).isoformat(),
            "quota_total": 10,
            "quotas": {"32": 4, "35": 3},
            "scheme": "2023",
            "seed_commitment": hashlib.sha256(b"not revealed").hexdigest(),
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["wave_id"])


def ops_cli(api: Api, *args: str, status: int = 0) -> str:
    out = io.StringIO()
    assert main(["--api", api.url, *args], out=out) == status, out.getvalue()
    return out.getvalue()


def ops_json(api: Api, *args: str) -> Any:
    return json.loads(ops_cli(api, "--json", *args))


@pytest.fixture(autouse=True)
def _local_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRAKERJA_OPS_TOKEN", raising=False)  # minted by /_local/tokens


def test_waves_lists_every_wave_newest_first_with_status_and_selection_execution(api: Api, world: World) -> None:
    listed = ops_json(api, "waves")["items"]
    assert [w["wave_id"] for w in listed] == [world.open_wave, world.drawn_wave]
    opened, drawn = listed
    assert (opened["status"], opened["execution_arn"], opened["result"]) == ("OPEN", None, None)
    assert (drawn["status"], drawn["result"]["selected"], drawn["quota_total"]) == ("SELECTED", 2, 2)
    assert drawn["execution_arn"].endswith(f":execution:prakerja-dev-selection:{world.drawn_wave}")

    table = ops_cli(api, "waves").splitlines()
    assert table[0].split() == [
        "WAVE", "NAME", "STATUS", "OPENS", "CLOSES", "QUOTA", "PARTICIPANTS", "SELECTED", "EXECUTION"
    ]  # fmt: skip
    drawn_row = next(line for line in table if line.startswith(world.drawn_wave))
    assert "SELECTED" in drawn_row and drawn_row.endswith(world.drawn_wave)  # named after its wave
    # One page at a time, as the API's lists go (`--limit 1`), or all of them.
    assert [line.split()[0] for line in ops_cli(api, "waves", "--limit", "1").splitlines()[1:]] == [world.open_wave]
    assert len(ops_json(api, "waves", "--all")["items"]) == 2


def test_the_ops_waves_route_pages_with_next_token(api: Api, world: World) -> None:
    token = ops(api)
    first = api.call("GET", "/v1/ops/waves?limit=1", token).json()
    second = api.call("GET", "/v1/ops/waves", token, params={"limit": 1, "next_token": first["next_token"]}).json()
    assert [w["wave_id"] for w in first["items"] + second["items"]] == [world.open_wave, world.drawn_wave]
    forged = api.call("GET", "/v1/ops/waves", token, params={"next_token": "bm9wZQ=="})
    assert (forged.status_code, forged.json()["code"]) == (422, "NEXT_TOKEN_INVALID")


def test_wave_shows_counts_per_province_and_the_draw(api: Api, world: World) -> None:
    drawn = ops_json(api, "wave", world.drawn_wave)
    assert drawn["result"]["participants"] == drawn["result"]["selected"] == 2
    assert drawn["provinces"] == {"32": {"joined": 2, "eligible": 2, "selected": 2}}  # tests.factories' province
    shown = ops_cli(api, "wave", world.drawn_wave)
    assert "PROVINCE  QUOTA  JOINED  ELIGIBLE  SELECTED" in shown
    assert "2 participants, 2 eligible, 2 selected" in shown
    assert ["32", "-", "2", "2", "2"] in [line.split() for line in shown.splitlines()]

    opened = ops_cli(api, "wave", world.open_wave)  # quotas, nobody joined yet
    rows = [line.split() for line in opened.splitlines()]
    assert ["32", "4", "-", "-", "-"] in rows and ["35", "3", "-", "-", "-"] in rows


def test_executions_show_the_selection_succeeded_and_the_payout_run(api: Api, world: World) -> None:
    selections = ops_json(api, "executions", "--workflow", "selection")["items"]
    assert [(e["name"], e["status"]) for e in selections] == [(world.drawn_wave, "SUCCEEDED")]
    assert selections[0]["startDate"] <= selections[0]["stopDate"]
    everything = ops_json(api, "executions", "--limit", "50")["items"]
    workflows = {e["workflow"] for e in everything}
    assert {"registration", "selection", "payouts"} <= workflows
    assert world.run_arn in {e["executionArn"] for e in everything}
    assert ops_json(api, "executions", "--status", "failed")["items"] == []

    table = ops_cli(api, "executions", "--workflow", "selection").splitlines()
    assert table[0].split() == ["WORKFLOW", "EXECUTION", "STATUS", "STARTED", "STOPPED", "TOOK"]
    assert table[1].split()[:3] == ["selection", world.drawn_wave, "SUCCEEDED"]


def test_execution_summarizes_its_history(api: Api, world: World) -> None:
    by_name = ops_json(api, "execution", world.drawn_wave)  # a name is looked up in every workflow
    assert by_name["execution"]["status"] == "SUCCEEDED"
    states = [s["state"] for s in by_name["states"]]
    assert states[0] == "PlanSelection" and "PublishResult" in states
    assert all(s["entered"] == s["exited"] and s["failed"] == 0 for s in by_name["states"])
    assert by_name["failures"] == []
    arn = by_name["execution"]["executionArn"]
    assert ops_json(api, "execution", arn)["states"] == by_name["states"]

    shown = ops_cli(api, "execution", world.drawn_wave)
    assert shown.startswith(f"{world.drawn_wave}  SUCCEEDED")
    assert "no failures" in shown
    assert ops_json(api, "execution", world.run_arn)["execution"]["status"] == "SUCCEEDED"


def test_failed_payouts_by_code_with_examples(api: Api, world: World) -> None:
    failed = ops_json(api, "payouts", "--failed")
    assert (failed["total"], failed["by_code"]) == (1, {"ACCOUNT_NOT_VALID": 1})
    [example] = failed["examples"]
    assert (example["payout_id"], example["failure_code"], example["amount"]) == (
        world.failed_payout,
        "ACCOUNT_NOT_VALID",
        600_000,
    )
    assert world.paid_payout not in json.dumps(failed)
    shown = ops_cli(api, "payouts", "--failed")
    assert shown.startswith("failed payouts: 1")
    assert any(line.split()[:2] == ["ACCOUNT_NOT_VALID", world.failed_payout] for line in shown.splitlines())
    assert ops_json(api, "payouts", "--failed", "--code", "NAME_MISMATCH")["examples"] == []

    # The route itself: only FAILED is listed; a code filters.
    token = ops(api)
    listed = api.call("GET", "/v1/ops/payouts", token, params={"status": "FAILED"}).json()
    assert [p["payout_id"] for p in listed["items"]] == [world.failed_payout] and listed["next_token"] is None
    assert set(listed["items"][0]) == {  # what ops need to follow it up; never an account number
        "payout_id", "applicant_id", "kind", "tranche", "amount", "failure_code", "failed_at", "attempt", "provider"
    }  # fmt: skip
    other = api.call("GET", "/v1/ops/payouts", token, params={"status": "FAILED", "failure_code": "ACCOUNT_BLOCKED"})
    assert other.json()["items"] == []
    paid = api.call("GET", "/v1/ops/payouts", token, params={"status": "PAID"})
    assert paid.status_code == 422


def test_a_failed_payout_leaves_the_list_once_a_valid_account_schedules_it_again(api: Api, world: World) -> None:
    assert ops_json(api, "payouts", "--failed")["total"] == 1
    link(api, world.failed_token, "OVO", "081234567890")  # valid again: the payout is released
    assert [p["status"] for p in payouts(api, world.failed_token)] == ["SCHEDULED"]
    assert ops_json(api, "payouts", "--failed") == {"total": 0, "by_code": {}, "examples": []}
    assert ops_cli(api, "payouts", "--failed").strip() == "failed payouts: 0"


def test_ledger_is_balanced(api: Api, world: World) -> None:
    report = ops_json(api, "ledger")
    assert report["balanced"] and report["debits"] == report["credits"]
    assert report["disbursed"] >= 600_000  # B's incentive at least
    shown = ops_cli(api, "ledger").splitlines()
    assert shown[0].split()[:2] == ["budget", "Rp"]
    assert next(line for line in shown if line.startswith("balanced")).split()[1] == "yes:"
    assert any(line.split()[0] == "PAID_OUT" for line in shown if line.strip())


def test_a_bad_token_or_no_runtime_is_an_error_not_a_traceback(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRAKERJA_OPS_TOKEN", "not-a-jwt")
    assert main(["--api", api.url, "ledger"], out=io.StringIO()) == 2
    assert "GET /v1/ops/ledger: 401" in capsys.readouterr().err
    monkeypatch.setenv("PRAKERJA_OPS_TOKEN", api.token("not-ops@example.com"))  # a user outside the ops group
    assert main(["--api", api.url, "waves"], out=io.StringIO()) == 2
    assert "403" in capsys.readouterr().err
    assert main(["--api", "http://127.0.0.1:9", "waves"], out=io.StringIO()) == 2
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err
