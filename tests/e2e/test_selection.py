"""A wave's draw end to end: close with the seed, the selection workflow on moto's Step
Functions interpreter (the template's Distributed Maps), outcomes, cards, notifications, the
published draw and its independent verification."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.e2e.conftest import Api

ROOT = Path(__file__).resolve().parents[2]
SEED = "gelombang-e2e-rahasia-7f3a9c"


@pytest.fixture(scope="module")
def ops(api: Api) -> str:
    return api.token("selection-ops@example.com", ["ops"])


def draw_pages(api: Api, wave_id: str) -> list[dict[str, Any]]:
    pages, token = [], None
    while True:
        query = f"?next_token={token}" if token else ""
        response = api.call("GET", f"/v1/waves/{wave_id}/draw{query}")
        assert response.status_code == 200, response.text
        pages.append(response.json())
        token = pages[-1]["next_token"]
        if token is None:
            return pages


def verify(pages: list[dict[str, Any]], directory: Path) -> subprocess.CompletedProcess[str]:
    paths = []
    for i, page in enumerate(pages):
        path = directory / f"page-{i:03d}.json"
        path.write_text(json.dumps(page))
        paths.append(str(path))
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "verify_draw.py"), *paths], capture_output=True, text=True, check=False
    )


class Wave:
    """One wave taken through its draw; the module's tests read what it left behind."""

    def __init__(self, api: Api, cloud: LocalCloud, ops: str) -> None:
        self.wave_id = api.open_wave(ops, SEED, quota_total=4, quotas={"32": 2}, name="Gelombang seleksi")
        self.people = {
            name: api.verified_applicant(province_code=province)
            for name, province in [
                ("west-java-1", "32"),
                ("west-java-2", "32"),
                ("west-java-3", "32"),
                ("jakarta-1", "31"),
                ("jakarta-2", "31"),
                ("jakarta-3", "31"),
                ("priority", "33"),
                ("became-asn", "33"),
            ]
        }
        for token, _ in self.people.values():
            joined = api.call("POST", f"/v1/waves/{self.wave_id}/join", token)
            assert joined.status_code == 200, joined.text
        # Lists change while the wave is open: they are read again at close.
        for source, name in (("PRIORITY", "priority"), ("ASN", "became-asn")):
            listed = api.call(
                "POST", f"/v1/ops/exclusion-lists/{source}", ops, json={"niks": [self.people[name][1]["nik"]]}
            )
            assert listed.status_code == 200, listed.text

        self.wrong_seed = api.call(
            "POST", f"/v1/ops/waves/{self.wave_id}/close", ops, json={"seed": "not-the-seed-at-all"}
        )
        self.early_draw = api.call("GET", f"/v1/waves/{self.wave_id}/draw")
        self.closed = api.call("POST", f"/v1/ops/waves/{self.wave_id}/close", ops, json={"seed": SEED})
        self.closed_again = api.call("POST", f"/v1/ops/waves/{self.wave_id}/close", ops, json={"seed": SEED})
        cloud.wait_for_executions("SelectionWorkflow", timeout=240)
        self.status = api.call("GET", f"/v1/ops/waves/{self.wave_id}", ops).json()
        self.profiles = {
            name: api.call("GET", "/v1/applicants/me", token).json() for name, (token, _) in self.people.items()
        }


@pytest.fixture(scope="module")
def wave(api: Api, cloud: LocalCloud, ops: str) -> Wave:
    return Wave(api, cloud, ops)


def test_closing_needs_the_committed_seed_and_starts_one_execution(wave: Wave) -> None:
    assert wave.wrong_seed.status_code == 422 and wave.wrong_seed.json()["code"] == "SEED_MISMATCH"
    assert wave.early_draw.status_code == 409 and wave.early_draw.json()["code"] == "DRAW_NOT_PUBLISHED"
    assert wave.closed.status_code == 202, wave.closed.text
    arn = wave.closed.json()["execution_arn"]
    assert arn.endswith(f":{wave.wave_id}")
    assert wave.closed_again.status_code == 202 and wave.closed_again.json()["execution_arn"] == arn


def test_the_execution_succeeds_and_ops_see_the_report(wave: Wave, cloud: LocalCloud) -> None:
    sfn = cloud.boto3_client("stepfunctions")
    execution = sfn.describe_execution(executionArn=wave.closed.json()["execution_arn"])
    assert execution["status"] == "SUCCEEDED", execution
    status = wave.status
    assert status["status"] == "SELECTED" and status["execution_arn"] == wave.closed.json()["execution_arn"]
    assert status["result"]["participants"] == 8 and status["result"]["eligible"] == 7
    assert status["result"]["selected"] == 4
    assert status["provinces"]["32"] == {"joined": 3, "eligible": 3, "selected": status["provinces"]["32"]["selected"]}
    assert status["provinces"]["32"]["selected"] >= 2  # the provincial quota is filled
    assert status["provinces"]["33"]["eligible"] == 1
    assert sum(p["selected"] for p in status["provinces"].values()) == 4


def test_outcomes_cards_and_lists_at_close(wave: Wave) -> None:
    profiles = wave.profiles
    statuses = {name: p["status"] for name, p in profiles.items()}
    assert statuses["became-asn"] == "REJECTED" and profiles["became-asn"]["reasons"] == ["EXCLUDED_OCCUPATION"]
    assert statuses["priority"] == "SELECTED"  # drawn first
    assert sorted(statuses.values()).count("SELECTED") == 4
    assert set(statuses.values()) <= {"SELECTED", "NOT_SELECTED", "REJECTED"}
    for profile in profiles.values():
        if profile["status"] == "SELECTED":
            card = profile["card"]
            assert card["training_balance"] == 3_500_000 and card["scheme"] == "2023"
            assert len(card["card_number"]) == 16 and card["purchase_deadline"].endswith("Z")
        else:
            assert profile["card"] is None


def test_everyone_is_notified_once(api: Api, wave: Wave) -> None:
    for name, profile in wave.profiles.items():
        messages = api.call("GET", f"/_local/outbox?applicant_id={profile['applicant_id']}").json()["items"]
        assert [(m["kind"], m["wave_id"], m["status"]) for m in messages] == [
            ("WAVE_RESULT", wave.wave_id, profile["status"])
        ], name


def test_anyone_can_verify_the_published_draw_and_tampering_is_caught(api: Api, wave: Wave, tmp_path: Path) -> None:
    pages = draw_pages(api, wave.wave_id)
    rows = [row for page in pages for row in page["participants"]]
    assert pages[0]["seed"] == SEED and pages[0]["algorithm"] == "prakerja-draw-v1"
    assert sorted(r["participant_id"] for r in rows) == sorted(p["applicant_id"] for p in wave.profiles.values())
    assert {r["participant_id"] for r in rows if r["selected"]} == {
        p["applicant_id"] for p in wave.profiles.values() if p["status"] == "SELECTED"
    }
    verified = verify(pages, tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "VERIFIED" in verified.stdout

    loser = next(r for r in rows if r["eligible"] and not r["selected"])
    for page in pages:
        for row in page["participants"]:
            if row["participant_id"] == loser["participant_id"]:
                row["selected"] = True
    tampered = verify(pages, tmp_path)
    assert tampered.returncode == 1 and "MISMATCH" in tampered.stdout


def test_a_forged_draw_token_is_refused(api: Api, wave: Wave) -> None:
    for token in ("99.0", "abc", "0.999999"):
        response = api.call("GET", f"/v1/waves/{wave.wave_id}/draw?next_token={token}")
        assert response.status_code == 422 and response.json()["code"] == "NEXT_TOKEN_INVALID", token
    missing = api.call("GET", "/v1/waves/wave-000000000000/draw")
    assert missing.status_code == 404 and missing.json()["code"] == "WAVE_NOT_FOUND"


def test_a_second_execution_changes_nothing(api: Api, cloud: LocalCloud, wave: Wave) -> None:
    sfn = cloud.boto3_client("stepfunctions")
    machine = cloud.resources.find("SelectionWorkflowStateMachine", "AWS::StepFunctions::StateMachine").ref
    rerun = sfn.start_execution(
        stateMachineArn=machine, name=f"{wave.wave_id}-rerun", input=json.dumps({"wave_id": wave.wave_id})
    )
    cloud.wait_for_executions("SelectionWorkflow", timeout=240)
    assert sfn.describe_execution(executionArn=rerun["executionArn"])["status"] == "SUCCEEDED"
    again = {name: api.call("GET", "/v1/applicants/me", token).json() for name, (token, _) in wave.people.items()}
    for name, profile in again.items():
        before = wave.profiles[name]
        assert (profile["status"], profile["card"]) == (before["status"], before["card"]), name
        assert len(api.call("GET", f"/_local/outbox?applicant_id={profile['applicant_id']}").json()["items"]) == 1


def test_unselected_join_the_next_wave_and_recipients_cannot(api: Api, ops: str, wave: Wave) -> None:
    following = api.open_wave(ops, "the-next-waves-secret-seed", quota_total=2, name="Gelombang seleksi")
    for name, (token, _) in wave.people.items():
        joined = api.call("POST", f"/v1/waves/{following}/join", token)
        status = wave.profiles[name]["status"]
        if status == "SELECTED":
            assert joined.status_code == 409 and joined.json()["code"] == "ALREADY_RECIPIENT", name
        elif status == "NOT_SELECTED":
            assert joined.status_code == 200, name
        else:
            assert joined.status_code == 409 and joined.json()["code"] == "NOT_VERIFIED", name


def test_each_case_holds_its_wave_and_draw_outcome(api: Api, ops: str, wave: Wave) -> None:
    """The case view's history: the wave joined and the draw's outcome, with its card for the
    selected (each written with the change it records)."""
    for name, profile in wave.profiles.items():
        if profile["status"] not in ("SELECTED", "NOT_SELECTED"):
            continue
        history = api.call("GET", f"/v1/ops/applicants/{profile['applicant_id']}", ops).json()["history"]
        kinds = [e["kind"] for e in history]
        joined = next(e for e in history if e["kind"] == "WAVE_JOINED" and e["details"]["wave_id"] == wave.wave_id)
        outcome = next(e for e in history if e["kind"] == "DRAW_OUTCOME" and e["details"]["wave_id"] == wave.wave_id)
        assert outcome["details"]["status"] == profile["status"], name
        assert joined["at"] <= outcome["at"], name
        assert ("CARD_ISSUED" in kinds) == (profile["status"] == "SELECTED"), name
