"""The audit log over HTTP: every ops call that changed something is there with who made it, when,
on what, and the request it came from; reads and refused calls are not; applicants cannot read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import Api


def test_ops_changes_are_recorded_with_their_actor_and_reads_are_not(api: Api) -> None:
    ops_email = "auditor-subject@example.com"
    ops = api.token(email=ops_email, groups=["ops"])
    me = api.call("GET", "/v1/ops/waves", ops)  # a read: not recorded
    assert me.status_code == 200
    before = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()

    wave_id = api.open_wave(ops, "audited-seed", quota_total=5)
    refused = api.call("POST", "/v1/ops/waves", ops, json={"name": "x"})  # 422: changed nothing
    assert refused.status_code == 422
    search = api.call("POST", "/v1/ops/applicants/search", ops, json={"applicant_id": "nobody"})
    assert search.status_code == 200  # a POST that reads: not recorded

    log = api.call("GET", "/v1/ops/audit-log", ops, params={"since": before})
    assert log.status_code == 200, log.text
    mine = [e for e in log.json()["items"] if e["target"] == "/v1/ops/waves" and e["action"] == "POST /v1/ops/waves"]
    assert len(mine) == 1, log.json()
    (entry,) = mine
    assert entry["request_id"] and entry["reason"] is None and entry["at"] >= before[:19]
    assert ops_email not in log.text  # the actor is the account id, not the e-mail
    assert not [e for e in log.json()["items"] if "search" in e["action"] or e["action"].startswith("GET")]

    by_actor = api.call("GET", "/v1/ops/audit-log", ops, params={"actor": entry["actor"]}).json()["items"]
    assert entry in by_actor and {e["actor"] for e in by_actor} == {entry["actor"]}
    by_action = api.call("GET", "/v1/ops/audit-log", ops, params={"action": "POST /v1/ops/waves"}).json()["items"]
    assert entry in by_action
    assert wave_id  # the wave the entry is about was made

    assert api.call("GET", "/v1/ops/audit-log", api.token()).status_code == 403
    bad = api.call("GET", "/v1/ops/audit-log", ops, params={"since": "yesterday"})
    assert bad.status_code == 422 and bad.headers["Content-Type"].startswith("application/problem+json")
