"""Complaints over HTTP (API.md, "Grievances"): filed with or without a profile, once per
Idempotency-Key however many arrive at once, within the attempt limit; nobody reads another's
ticket; an ops answer reaches the applicant (the ticket, an outbox notice) and the audit log; a
reply reopens a resolved ticket; the ops queue filters, orders and pages. Overdue needs the clock
to move: tests/e2e_deadlines/test_complaints_overdue.py."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from prakerja.limits import ATTEMPT_LIMITS, Attempt
from tests.e2e.conftest import Api

COMPLAINT_LIMIT = ATTEMPT_LIMITS[Attempt.COMPLAINT].attempts


def file(
    api: Api, token: str, category: str = "PAYMENT", message: str = "Insentif belum masuk", **kw: Any
) -> requests.Response:
    return api.call("POST", "/v1/complaints", token, json={"category": category, "message": message}, **kw)


def ops_token(api: Api) -> str:
    return api.token(f"helpdesk-{uuid.uuid4().hex[:8]}@example.com", ["ops"])


def answer(api: Api, ops: str, ticket_id: str, status: str, message: str = "Sedang kami periksa") -> requests.Response:
    return api.call("POST", f"/v1/ops/complaints/{ticket_id}/updates", ops, json={"status": status, "message": message})


def test_an_account_without_a_profile_files_and_reads_its_complaint(api: Api) -> None:
    token = api.token()
    filed = file(api, token, "ACCOUNT", "Tidak bisa mendaftar")
    assert filed.status_code == 201, filed.text
    ticket = filed.json()
    assert ticket["status"] == "OPEN" and ticket["category"] == "ACCOUNT"
    assert ticket["due_by"] > ticket["created_at"]
    # The message is not echoed by the POST (the idempotency table would keep it in clear).
    assert "message" not in ticket
    read = api.call("GET", f"/v1/complaints/{ticket['ticket_id']}", token)
    assert read.status_code == 200 and read.json()["message"] == "Tidak bisa mendaftar"
    assert read.json()["updates"] == []
    mine = api.call("GET", "/v1/complaints", token).json()
    assert [t["ticket_id"] for t in mine["items"]] == [ticket["ticket_id"]] and mine["next_token"] is None


def test_bad_complaints_get_their_problem(api: Api) -> None:
    token = api.token()
    too_long = file(api, token, message="x" * 2001)
    assert too_long.status_code == 422 and too_long.json()["code"]
    unknown = file(api, token, category="LOTTERY")
    assert unknown.status_code == 422
    assert api.call("GET", "/v1/complaints/tkt-nope", token).json()["code"] == "TICKET_NOT_FOUND"


def test_nobody_reads_or_replies_to_anothers_ticket(api: Api) -> None:
    owner, other = api.token(), api.token()
    ticket_id = file(api, owner).json()["ticket_id"]
    read = api.call("GET", f"/v1/complaints/{ticket_id}", other)
    assert read.status_code == 404 and read.json()["code"] == "TICKET_NOT_FOUND"
    reply = api.call("POST", f"/v1/complaints/{ticket_id}/messages", other, json={"message": "saya juga"})
    assert reply.status_code == 404
    assert api.call("GET", "/v1/complaints", other).json()["items"] == []


def test_twenty_concurrent_posts_with_one_key_file_one_ticket(api: Api) -> None:
    token = api.token()
    key = {"Idempotency-Key": f"complaint-{uuid.uuid4()}"}
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: file(api, token, headers=key), range(20)))
    filed = {a.json()["ticket_id"] for a in answers if a.status_code == 201}
    others = {(a.status_code, a.json()["code"]) for a in answers if a.status_code != 201}
    assert len(filed) == 1, [a.text for a in answers]
    assert others <= {(409, "REQUEST_IN_PROGRESS")}
    assert [t["ticket_id"] for t in api.call("GET", "/v1/complaints", token).json()["items"]] == list(filed)
    again = file(api, token, headers=key)  # a repeat once it finished: the first answer
    assert again.status_code == 201 and again.json()["ticket_id"] in filed


def test_twenty_keys_file_as_many_as_the_attempt_limit_allows(api: Api) -> None:
    token = api.token()

    def one(n: int) -> requests.Response:
        return file(api, token, message=f"Pengaduan {n}", headers={"Idempotency-Key": f"complaint-{uuid.uuid4()}"})

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(one, range(20)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * COMPLAINT_LIMIT + [429] * (20 - COMPLAINT_LIMIT)
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["code"] == "TOO_MANY_ATTEMPTS" and int(refused.headers["Retry-After"]) > 0
    listed: list[str] = []
    token_ = None
    while True:
        page = api.call(
            "GET", "/v1/complaints", token, params={"limit": 3, **({"next_token": token_} if token_ else {})}
        )
        listed += [t["ticket_id"] for t in page.json()["items"]]
        token_ = page.json()["next_token"]
        if not token_:
            break
    assert sorted(listed) == sorted(a.json()["ticket_id"] for a in answers if a.status_code == 201)


def test_an_ops_answer_reaches_the_applicant_and_the_audit_log_and_a_reply_reopens(api: Api) -> None:
    token, _ = api.verified_applicant()
    applicant_id = api.call("GET", "/v1/applicants/me", token).json()["applicant_id"]
    ticket_id = file(api, token, "VERIFICATION", "Nama saya salah ketik").json()["ticket_id"]
    ops = ops_token(api)

    seen = api.call("GET", f"/v1/ops/complaints/{ticket_id}", ops)
    assert seen.status_code == 200 and seen.json()["message"] == "Nama saya salah ketik"
    answered = answer(api, ops, ticket_id, "RESOLVED", "Sudah kami perbaiki")
    assert answered.status_code == 200, answered.text

    ticket = api.call("GET", f"/v1/complaints/{ticket_id}", token).json()
    assert ticket["status"] == "RESOLVED"
    assert [(u["by"], u["status"], u["message"]) for u in ticket["updates"]] == [
        ("OPS", "RESOLVED", "Sudah kami perbaiki")
    ]
    notices = api.call("GET", "/_local/outbox", params={"applicant_id": applicant_id}).json()["items"]
    notice = next(m for m in notices if m["kind"] == "COMPLAINT_ANSWERED")
    assert notice["wave_id"] == ticket_id and "perbaiki" not in str(notice)

    audit = api.call("GET", "/v1/ops/audit-log", ops, params={"action": "COMPLAINT_ANSWERED"}).json()["items"]
    (entry,) = [e for e in audit if e["target"] == ticket_id]
    assert entry["reason"] == "RESOLVED" and entry["actor"] and entry["request_id"] != "unknown"
    # Recorded once, in the answer's transaction: not a second, generic entry of the route.
    generic = api.call(
        "GET", "/v1/ops/audit-log", ops, params={"action": "POST /v1/ops/complaints/{ticket_id}/updates"}
    )
    assert generic.json()["items"] == []

    reopened = api.call("POST", f"/v1/complaints/{ticket_id}/messages", token, json={"message": "Masih salah"})
    assert reopened.status_code == 200 and reopened.json()["status"] == "OPEN"
    closed = answer(api, ops, ticket_id, "CLOSED")
    assert closed.status_code == 200
    refused = api.call("POST", f"/v1/complaints/{ticket_id}/messages", token, json={"message": "Halo?"})
    assert refused.status_code == 409 and refused.json()["code"] == "TICKET_CLOSED"
    again = answer(api, ops, ticket_id, "IN_PROGRESS")
    assert again.status_code == 409 and again.json()["code"] == "TICKET_CLOSED"
    assert answer(api, ops, ticket_id, "OPEN").status_code == 422


def test_the_ops_queue_filters_orders_and_pages(api: Api) -> None:
    ops = ops_token(api)
    token = api.token()
    mine = [file(api, token, "TRAINING", f"Kursus {n}").json()["ticket_id"] for n in range(4)]
    assert answer(api, ops, mine[1], "WAITING_FOR_APPLICANT").status_code == 200
    assert answer(api, ops, mine[2], "RESOLVED").status_code == 200

    def walk(**params: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        next_token = None
        while True:
            query = {**params, "limit": 2, **({"next_token": next_token} if next_token else {})}
            page = api.call("GET", "/v1/ops/complaints", ops, params=query)
            assert page.status_code == 200, page.text
            rows += page.json()["items"]
            next_token = page.json()["next_token"]
            if not next_token:
                return rows

    training = walk(category="TRAINING")
    assert {r["category"] for r in training} == {"TRAINING"}
    assert {r["status"] for r in training} <= {"OPEN", "IN_PROGRESS", "WAITING_FOR_APPLICANT"}
    ids = [r["ticket_id"] for r in training]
    assert [t for t in ids if t in mine] == [mine[0], mine[1], mine[3]]  # oldest first; resolved left
    assert len(ids) == len(set(ids))
    resolved = walk(status="RESOLVED", category="TRAINING")
    assert mine[2] in [r["ticket_id"] for r in resolved] and {r["status"] for r in resolved} == {"RESOLVED"}
    assert "message" not in training[0]

    bad = api.call("GET", "/v1/ops/complaints", ops, params={"next_token": "bm9wZQ=="})
    assert bad.status_code == 422 and bad.json()["code"] == "NEXT_TOKEN_INVALID"
    assert api.call("GET", "/v1/ops/complaints", token).status_code == 403  # applicants: not the queue
