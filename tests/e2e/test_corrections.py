"""Off the happy path, over HTTP with the real workflow: an applicant rejected for a mistyped name
complains, ops find the case by NIK (and by e-mail) and answer, the applicant corrects the profile
and is verified on the same profile; the case view shows the whole history and every ops change is
in the audit log."""

from __future__ import annotations

from tests.e2e.conftest import Api


def test_a_mistyped_name_is_corrected_and_verified_and_ops_see_the_whole_case(api: Api) -> None:
    body = api.person(full_name="Siti Rahayu", gender="F")
    token, created = api.register({**body, "full_name": "Siti Rahayo", "email": "Siti.Rahayu@Example.com"})
    applicant_id = created.json()["applicant_id"]
    assert api.wait_for_decision(token)["reasons"] == ["IDENTITY_MISMATCH"]

    complaint = api.call(
        "POST",
        "/v1/complaints",
        token,
        json={"category": "VERIFICATION", "message": "Nama saya ditolak, padahal sesuai KTP."},
        headers={"Idempotency-Key": "complaint-typo-1"},
    )
    assert complaint.status_code == 201, complaint.text
    ticket_id = complaint.json()["ticket_id"]

    ops = api.token(groups=["ops"])
    by_nik = api.call("POST", "/v1/ops/applicants/search", ops, json={"nik": body["nik"]})
    assert by_nik.status_code == 200, by_nik.text
    (found,) = by_nik.json()["items"]
    assert found["applicant_id"] == applicant_id and found["status"] == "REJECTED"
    assert found["masked_nik"] == body["nik"][:2] + "*" * 10 + body["nik"][-4:]
    assert found["masked_name"] == "S*** R*****"
    # E-mails are found whatever their case.
    by_email = api.call("POST", "/v1/ops/applicants/search", ops, json={"email": "siti.rahayu@example.com"})
    assert [f["applicant_id"] for f in by_email.json()["items"]] == [applicant_id]

    answer = {"status": "WAITING_FOR_APPLICANT", "message": "Nama tidak sesuai Dukcapil: perbaiki profil Anda."}
    answered = api.call("POST", f"/v1/ops/complaints/{ticket_id}/updates", ops, json=answer)
    assert answered.status_code in (200, 201), answered.text
    seen = api.call("GET", f"/v1/complaints/{ticket_id}", token).json()
    assert seen["status"] == "WAITING_FOR_APPLICANT" and seen["updates"][-1]["by"] == "OPS"

    wrong_nik = api.person(gender="F", date_of_birth=body["date_of_birth"])["nik"]
    refused = api.call("PUT", "/v1/applicants/me", token, json={**body, "nik": wrong_nik})
    assert refused.status_code == 422 and refused.json()["code"] == "NIK_CANNOT_CHANGE"
    corrected = api.call("PUT", "/v1/applicants/me", token, json=body, headers={"Idempotency-Key": "fix-name-1"})
    assert corrected.status_code == 202, corrected.text
    assert corrected.json() == {"applicant_id": applicant_id, "status": "VERIFYING"}
    profile = api.wait_for_decision(token)
    assert profile["status"] == "VERIFIED" and profile["reasons"] == [] and profile["applicant_id"] == applicant_id
    assert profile["full_name"] == "Siti Rahayu"

    case = api.call("GET", f"/v1/ops/applicants/{applicant_id}", ops)
    assert case.status_code == 200, case.text
    view = case.json()
    assert view["status"] == "VERIFIED" and view["verification_attempt"] == 2
    assert view["profile"]["nik"] == found["masked_nik"] and body["nik"] not in case.text
    assert "Rahayu" not in case.text and "Siti" not in case.text  # masked only
    history = [(e["kind"], e["details"]) for e in view["history"]]
    about = {"ticket_id": ticket_id, "category": "VERIFICATION"}
    assert history == [
        ("REGISTERED", {}),
        ("IDENTITY_CHECKED", {"verdict": "MISMATCH"}),
        ("DECIDED", {"status": "REJECTED", "reasons": ["IDENTITY_MISMATCH"]}),
        ("COMPLAINT_FILED", about),
        ("COMPLAINT_UPDATED", {**about, "status": "WAITING_FOR_APPLICANT"}),
        ("VERIFICATION_RESTARTED", {"cause": "CORRECTED", "attempt": 2}),
        ("IDENTITY_CHECKED", {"verdict": "MATCH"}),
        ("DECIDED", {"status": "VERIFIED", "reasons": []}),
    ]
    assert "Dukcapil" not in case.text and "KTP" not in case.text  # messages stay in the ticket
    answered_in_log = api.call("GET", "/v1/ops/audit-log", ops, params={"action": "COMPLAINT_ANSWERED"}).json()
    assert ticket_id in [e["target"] for e in answered_in_log["items"]]
    times = [e["at"] for e in view["history"]]
    assert times == sorted(times)


def test_a_profile_in_a_wave_is_locked(api: Api) -> None:
    token, body = api.verified_applicant()
    ops = api.token(groups=["ops"])
    wave_id = api.open_wave(ops, "locked-profile-seed", quota_total=10)
    assert api.call("POST", f"/v1/waves/{wave_id}/join", token).status_code == 200
    locked = api.call("PUT", "/v1/applicants/me", token, json=body)
    assert locked.status_code == 409 and locked.json()["code"] == "PROFILE_LOCKED"
    applicant_id = api.call("GET", "/v1/applicants/me", token).json()["applicant_id"]
    history = api.call("GET", f"/v1/ops/applicants/{applicant_id}", ops).json()["history"]
    assert history[-1]["kind"] == "WAVE_JOINED" and history[-1]["details"] == {"wave_id": wave_id}


def test_case_search_takes_exactly_one_well_formed_key_and_unknown_cases_are_404(api: Api) -> None:
    ops = api.token(groups=["ops"])
    for bad in ({}, {"nik": "3201", "email": "a@b.c"}, {"nik": "not-a-nik"}, {"nik": "9901010101010001"}):
        answer = api.call("POST", "/v1/ops/applicants/search", ops, json=bad)
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert api.call("POST", "/v1/ops/applicants/search", ops, json={"applicant_id": "nobody"}).json() == {"items": []}
    missing = api.call("GET", "/v1/ops/applicants/nobody", ops)
    assert missing.status_code == 404 and missing.json()["code"] == "APPLICANT_NOT_FOUND"
    applicant = api.token()
    assert api.call("POST", "/v1/ops/applicants/search", applicant, json={"applicant_id": "x"}).status_code == 403


def test_ops_reverify_after_the_registry_corrected_its_record(api: Api) -> None:
    """The civil registry did not know the NIK; once it does, ops ask for the checks again (no
    second person needed), the same profile is verified, and the case and audit log say who did it."""
    body = api.person(in_registry=False)
    token, created = api.register(body)
    applicant_id = created.json()["applicant_id"]
    assert api.wait_for_decision(token)["reasons"] == ["NIK_NOT_FOUND"]
    resident = {k: body[k] for k in ("nik", "kk_number", "full_name", "date_of_birth", "gender")}
    assert api.call("POST", "/_local/population", json={"residents": [resident]}).status_code in (200, 201)

    ops = api.token(groups=["ops"])
    path = f"/v1/ops/applicants/{applicant_id}/actions"
    asked = api.call("POST", path, ops, json={"action": "REVERIFY", "reason": "Dukcapil added the record"})
    assert asked.status_code == 202, asked.text
    assert asked.json()["status"] == "EXECUTED"
    assert api.wait_for_decision(token)["status"] == "VERIFIED"

    case = api.call("GET", f"/v1/ops/applicants/{applicant_id}", ops).json()
    kinds = [e["kind"] for e in case["history"]]
    assert kinds.count("DECIDED") == 2 and "ACTION_REQUESTED" in kinds
    restart = next(e for e in case["history"] if e["kind"] == "VERIFICATION_RESTARTED")
    assert restart["details"] == {"cause": "REVERIFY", "attempt": 2}
    action = next(e for e in case["history"] if e["kind"] == "ACTION_REQUESTED")
    assert action["details"]["action"] == "REVERIFY" and action["details"]["reason"] == "Dukcapil added the record"
    audit = api.call("GET", "/v1/ops/audit-log", ops, params={"action": "REVERIFY"}).json()["items"]
    assert [e["target"] for e in audit if e["target"] == applicant_id] == [applicant_id]

    # A profile being checked cannot be restarted again until its run ends; a verified one can.
    again = api.call("POST", path, ops, json={"action": "REVERIFY", "reason": "once more"})
    assert again.status_code == 202, again.text
