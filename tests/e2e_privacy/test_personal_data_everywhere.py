"""A whole program journey, then a search of everything the system captured for the personal
data it was given.

Six people: A and B go all the way (registration, assessment, wave and draw, purchase,
redemption and completion by the platform, review, survey, payout account, payout run until
paid, the partner's settlement reconciled); C is selected, never buys, and loses the card at
the deadline; L is on an agency's exclusion list (uploaded with one more NIK, X, of someone who
never registers) and is rejected; R1 and R2 send registration bodies the API refuses, and
someone tries A's NIK again. Then every function's log lines (EMF metrics included), the
runtime's own log, every Step Functions execution (describe and full history), every S3
object, every DynamoDB item, the notification outbox and the SMS sent from it, queues and
topics, what the simulated partners and the civil registry keep, the identity provider's users
and every HTTP response the test received are searched for each NIK, KK number, full name (and
each word of 4 letters or more), phone (as typed, without the leading 0, with +62), e-mail
and account number.

Not covered: the child executions of a Distributed Map (the payout run's transfers, the
selection's shards; the card sweep's inline Map is in its history). moto describes each map
run but cannot list its children (ListExecutions ignores mapRunArn), so their histories are out
of reach; what goes into them is read from item files in S3 and what comes out is written to S3
or returned to the parent's history, all of which are scanned, and their functions' log lines
are scanned too. X-Ray traces are not emulated either:
tests/unit/test_no_personal_data_in_telemetry.py checks what the code hands to them.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from localcloud import LocalCloud
from localcloud.runtime import runs_here
from tests.e2e.conftest import Api
from tests.e2e_payouts.journey import complete_and_review, link, payouts, program_now, run_payouts, wait_for
from tests.e2e_privacy import scan
from tests.e2e_privacy.conftest import Received
from tests.factories import build_kk, build_nik, valid_registration

pytestmark = pytest.mark.e2e

DAY = 86_400
OWN_PROFILE = ("GET", "/v1/applicants/me")
_serials = itertools.count(7100)


@dataclass
class Person:
    label: str
    body: dict[str, Any]
    token: str | None = None
    accounts: list[str] = field(default_factory=list)

    def needles(self) -> list[scan.Needle]:
        return scan.needles_of(self.label, self.body, self.accounts)


@dataclass
class Journey:
    people: dict[str, Person]
    unregistered_listed_nik: str
    wave_id: str
    ops: str  # the operator's bearer token

    def tokens(self) -> dict[str, str]:
        return {**{p.label: str(p.token) for p in self.people.values() if p.token}, OPS: self.ops}

    def needles(self) -> list[scan.Needle]:
        listed_only = scan.Needle("X", scan.NIK, self.unregistered_listed_nik)
        return [n for p in self.people.values() for n in p.needles()] + [listed_only]


def body_of(api: Api, *, in_registry: bool = True, **fields: Any) -> dict[str, Any]:
    """A registration body with a fresh NIK and KK; with ``in_registry`` the civil registry knows
    the person (so that e-KYC passes)."""
    return api.person(in_registry=in_registry, kk_number=build_kk(serial=next(_serials)), **fields)


def register(api: Api, person: Person) -> dict[str, Any]:
    """Registers with an Idempotency-Key (so the idempotency table keeps a record of it) and
    waits for the decision."""
    person.token = api.token(f"privacy-{person.label.lower()}-{uuid.uuid4().hex[:8]}@example.com")
    key = {"Idempotency-Key": f"register-{uuid.uuid4()}"}
    created = api.call("POST", "/v1/applicants", person.token, json=person.body, headers=key)
    assert created.status_code == 201, created.text
    return api.wait_for_decision(person.token)


def take_assessment(api: Api, token: str) -> None:
    answers = api.call("GET", "/_local/assessment-key").json()
    assert api.call("POST", "/v1/applicants/me/assessment", token, json=answers).json()["passed"]


def run_journey(api: Api, cloud: LocalCloud) -> Journey:
    ops = api.token("privacy-ops@example.com", ["ops"])
    people = {
        "A": Person("A", body_of(api, full_name="Wiryawan Cahyaningrat", phone="081311220001",
                                 email="wiryawan.cahyaningrat@example.com")),
        "B": Person("B", body_of(api, full_name="Kusumawardhani Prameswari", gender="F", phone="+6285722330002",
                                 email="kusumawardhani.p@example.com")),
        "C": Person("C", body_of(api, full_name="Sasongko Widyatmoko", phone="0812 4455 0003",
                                 email="sasongko.widyatmoko@example.com")),
        "L": Person("L", body_of(api, full_name="Rengganis Adiwilaga", gender="F", phone="081377001004",
                                 email="rengganis.adiwilaga@example.com")),
    }  # fmt: skip

    # An agency's list naming L and someone who never registers: L is refused at screening.
    unregistered = build_nik(serial=next(_serials))
    listed = api.call(
        "POST", "/v1/ops/exclusion-lists/ASN", ops, json={"niks": [people["L"].body["nik"], unregistered]}
    )
    assert listed.status_code == 200, listed.text
    decided = register(api, people["L"])
    assert (decided["status"], decided["reasons"]) == ("REJECTED", ["EXCLUDED_OCCUPATION"]), decided

    # Bodies the API refuses: a birth date contradicting the NIK, and a malformed phone.
    r1 = valid_registration(full_name="Purbasari Handayaningtyas", gender="F", phone="085611110005",
                            email="purbasari.h@example.com", kk_number=build_kk(serial=next(_serials)))  # fmt: skip
    r1["nik"] = build_nik(dob=datetime(1990, 3, 4, tzinfo=UTC).date(), gender="F", serial=next(_serials))
    r2 = body_of(api, in_registry=False, full_name="Setyaningsih Kartawidjaja", phone="0812-ABCD-7788",
                 email="setyaningsih.k@example.com")  # fmt: skip
    for label, body, code in (("R1", r1, "NIK_BIRTH_DATE_MISMATCH"), ("R2", r2, "PHONE_INVALID")):
        people[label] = Person(label, body, api.token(f"privacy-{label.lower()}@example.com"))
        refused = api.call("POST", "/v1/applicants", people[label].token, json=body)
        assert refused.status_code == 422 and code in refused.text, refused.text

    # A wave of three, its draw, the three selected.
    seed = f"privacy-seed-{uuid.uuid4().hex}"
    wave_id = api.open_wave(ops, seed, quota_total=3, name="Gelombang privasi")
    selected = [people[k] for k in "ABC"]
    # The civil registry is down for A's first check: the failed step's error lands in the history.
    assert api.call("POST", "/_local/dukcapil/outage", json={"fail_next": 1}).status_code == 200
    for person in selected:
        assert register(api, person)["status"] == "VERIFIED"
        assert person.token is not None
        take_assessment(api, person.token)
        assert api.call("POST", f"/v1/waves/{wave_id}/join", person.token).status_code == 200
    # Someone else tries A's NIK: refused, and the refusal must not echo it.
    again = api.call("POST", "/v1/applicants", api.token("privacy-a-again@example.com"), json=people["A"].body)
    assert (again.status_code, again.json()["code"]) == (409, "NIK_ALREADY_REGISTERED"), again.text
    closed = api.call("POST", f"/v1/ops/waves/{wave_id}/close", ops, json={"seed": seed})
    assert closed.status_code == 202, closed.text
    wait_for(api, str(closed.json()["execution_arn"]))
    a, b, c = (str(p.token) for p in selected)
    assert all(api.call("GET", "/v1/applicants/me", t).json()["status"] == "SELECTED" for t in (a, b, c))

    # A and B: a course bought, redeemed and completed by its platform, reviewed; A answers a survey.
    complete_and_review(api, a)
    complete_and_review(api, b)
    survey = {"answers": [{"question_id": "q1", "answer": "Sangat bermanfaat"}]}
    answered = api.call(
        "POST", "/v1/surveys/post-training/responses", a, json=survey, headers={"Idempotency-Key": f"s-{uuid.uuid4()}"}
    )
    assert answered.status_code == 201, answered.text

    # Payout accounts: A's bank account; B's bank account the partner does not know, then B's e-wallet,
    # whose number is B's phone.
    people["A"].accounts.append("7712345601")
    assert link(api, a, "BNI", "7712345601")["status"] == "VALID"
    people["B"].accounts += ["0007712345", "085722330002"]
    assert link(api, b, "BNI", "0007712345")["reason"] == "ACCOUNT_NOT_FOUND"
    assert link(api, b, "OVO", "085722330002")["status"] == "VALID"

    # A payout run until every incentive is paid, and the partners' settlement reconciled. OVO
    # pays B but never calls back (seed 1 draws a silent answer): the workflow asks OVO itself.
    silent = {"provider": "OVO", "fail_rate": 0.0, "timeout_rate": 1.0, "seed": 1}
    assert api.call("POST", "/_local/payment-faults", json=silent).status_code == 200
    run_payouts(api)
    assert api.call("POST", "/_local/payment-faults", json={**silent, "timeout_rate": 0.0}).status_code == 200
    wait_until_paid(api, a)
    wait_until_paid(api, b)
    assert len(payouts(api, a)) == 2 and len(payouts(api, b)) == 1
    reconcile(api, ops, "BNI")
    reconcile(api, ops, "OVO")

    # 16 days on: C's unused card is revoked (and C blacklisted) by the nightly sweep.
    moved = api.call("POST", "/_local/clock", json={"advance_seconds": 16 * DAY})
    assert moved.status_code == 200, moved.text
    assert api.call("GET", "/v1/applicants/me", c).json()["status"] == "REVOKED"

    complain_and_answer(api, ops, people["A"])
    look_into_the_case(api, ops, people["A"])
    deliver_outbox(api, cloud)
    read_everything_back(api, ops, wave_id, [p for p in people.values() if p.token])
    return Journey(people, unregistered, wave_id, ops)


def complain_and_answer(api: Api, ops: str, person: Person) -> None:
    """A complains as people do, with their name, NIK and phone in the text; ops find the ticket in
    the queue, read it and answer by name; the applicant reads the answer (and is texted that
    there is one)."""
    body = person.body
    text = f"Saya {body['full_name']}, NIK {body['nik']}, HP {body['phone']}: insentif saya belum masuk."
    filed = api.call(
        "POST",
        "/v1/complaints",
        person.token,
        json={"category": "PAYMENT", "message": text},
        headers={"Idempotency-Key": f"complaint-{uuid.uuid4()}"},
    )
    assert filed.status_code == 201, filed.text
    ticket_id = filed.json()["ticket_id"]
    queue = api.call("GET", "/v1/ops/complaints", ops, params={"category": "PAYMENT"}).json()["items"]
    assert ticket_id in [row["ticket_id"] for row in queue]
    assert api.call("GET", f"/v1/ops/complaints/{ticket_id}", ops).json()["message"] == text
    reply = {"status": "RESOLVED", "message": f"Bapak {body['full_name']}, insentif sudah kami kirim ulang."}
    assert api.call("POST", f"/v1/ops/complaints/{ticket_id}/updates", ops, json=reply).status_code == 200
    assert api.call("GET", f"/v1/complaints/{ticket_id}", person.token).json()["status"] == "RESOLVED"


def look_into_the_case(api: Api, ops: str, person: Person) -> None:
    """Ops find A by NIK and by e-mail, read A's case (its history, complaints included), hold and
    release A's payouts with a reason, and read the audit log: what the case view, the cases table
    and the audit log then hold is scanned with everything else."""
    body = person.body
    by_nik = api.call("POST", "/v1/ops/applicants/search", ops, json={"nik": body["nik"]}).json()["items"]
    by_email = api.call("POST", "/v1/ops/applicants/search", ops, json={"email": body["email"]}).json()["items"]
    assert len(by_nik) == 1 and by_email == by_nik
    applicant_id = by_nik[0]["applicant_id"]
    case = api.call("GET", f"/v1/ops/applicants/{applicant_id}", ops).json()
    assert "COMPLAINT_FILED" in [e["kind"] for e in case["history"]]
    for action in ("HOLD_PAYOUTS", "RELEASE_PAYOUTS"):
        asked = api.call(
            "POST", f"/v1/ops/applicants/{applicant_id}/actions", ops, json={"action": action, "reason": "Tiket #1"}
        )
        assert asked.status_code == 202, asked.text
    assert api.call("GET", "/v1/ops/audit-log", ops).status_code == 200


def wait_until_paid(api: Api, token: str) -> None:
    """Until the partner's callbacks have marked every payout of the applicant PAID."""
    api.cloud.payment_partners.wait_idle(30)
    deadline = time.monotonic() + 30
    while {p["status"] for p in payouts(api, token)} != {"PAID"}:
        assert time.monotonic() < deadline, payouts(api, token)
        time.sleep(0.5)


def reconcile(api: Api, ops: str, provider: str) -> None:
    """The partner's settlement report of today (program time), reconciled against the ledger."""
    day = program_now(api).date().isoformat()
    report = api.call("POST", f"/_local/payment-partners/{provider}/settlement-report", json={"date": day})
    assert report.status_code == 201 and report.json()["lines"] >= 1, report.text
    started = api.call("POST", "/v1/ops/reconciliations", ops, json={"provider": provider, "date": day})
    assert started.status_code == 202, started.text
    assert wait_for(api, started.json()["execution_arn"])["status"] == "SUCCEEDED"
    assert api.call("GET", f"/v1/ops/reconciliations/{provider}/{day}", ops).json()["status"] == "BALANCED"


def deliver_outbox(api: Api, cloud: LocalCloud) -> None:
    """The runtime does not run DynamoDB streams: the outbox's items go to the notifier as the
    stream would bring them, so that it texts them (through moto's SNS) as on AWS."""
    db = cloud.boto3_client("dynamodb")
    table = str(cloud.resources.find("DataOutboxTable", "AWS::DynamoDB::Table").ref)
    items = [item for page in db.get_paginator("scan").paginate(TableName=table) for item in page["Items"]]
    assert len(items) >= 4, "the wave result for A, B, C and C's revocation"
    notifier = cloud.resources.of_type("AWS::Lambda::Function")
    [function] = [f for f in notifier if f.logical_id.startswith("NotificationsNotifierFunction")]
    records = [
        {
            "eventID": str(i),
            "eventName": "INSERT",
            "eventSource": "aws:dynamodb",
            "dynamodb": {
                "Keys": {"pk": item["pk"], "sk": item["sk"]},
                "NewImage": item,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
        }
        for i, item in enumerate(items)
    ]
    answer = cloud.invoke(function.logical_id, {"Records": records})
    assert answer == {"batchItemFailures": []}, answer


def read_everything_back(api: Api, ops: str, wave_id: str, people: list[Person]) -> None:
    """Every read an applicant, an operator and the public make, so their answers are scanned."""
    for person in people:
        for path in (
            "/v1/applicants/me",
            "/v1/purchases",
            "/v1/applicants/me/payouts",
            "/v1/applicants/me/payout-account",
        ):
            api.call("GET", path, person.token)
    for path in (f"/v1/ops/waves/{wave_id}", "/v1/ops/ledger", f"/v1/waves/{wave_id}/draw?limit=200"):
        assert api.call("GET", path, ops).status_code == 200, path
    for path in ("/v1/health", "/v1/waves", "/v1/trainings?limit=5", "/_local/outbox"):
        api.call("GET", path, people[0].token)
    assert api.call("GET", "/v1/waves/wave-000000000000/draw").status_code == 404  # the public API logs refusals


# -- the corpus ------------------------------------------------------------------------------------
@dataclass
class Corpus:
    documents: list[scan.Document]
    bytes_by_kind: dict[str, int]
    documents_by_kind: dict[str, int]
    tables: dict[str, int]
    buckets: dict[str, int]
    executions: scan.ExecutionsRead


@pytest.fixture(scope="module")
def journey(api: Api, cloud: LocalCloud, responses: list[Received]) -> Journey:
    return run_journey(api, cloud)


@pytest.fixture(scope="module")
def corpus(journey: Journey, cloud: LocalCloud, runtime_log: list[str], responses: list[Received]) -> Corpus:
    tables, table_counts = scan.dynamodb_items(cloud)
    objects, bucket_counts = scan.s3_objects(cloud)
    executions = scan.executions(cloud)
    outbox = scan.outbox(_outbox(cloud))
    raw = [
        *scan.function_logs(cloud),
        *scan.runtime_log(runtime_log),
        *executions.documents,
        *objects,
        *tables,
        *outbox,
        *scan.sms_messages(cloud),
        *scan.queued_messages(cloud),
        *scan.payment_partner_records(cloud),
        *scan.civil_registry(cloud),
        *scan.identity_provider(cloud),
        *scan.http_responses(list(responses)),
    ]
    documents = scan.with_decoded(raw)
    if dump := os.environ.get("PRIVACY_SCAN_DUMP"):  # a file to read what was scanned, one document a line
        with Path(dump).open("w", encoding="utf-8") as out:
            for d in documents:
                out.write(json.dumps({"kind": d.kind, "source": d.source, "text": d.text}) + "\n")
    bytes_by_kind: dict[str, int] = {}
    documents_by_kind: dict[str, int] = {}
    for document in raw:
        bytes_by_kind[document.kind] = bytes_by_kind.get(document.kind, 0) + len(document.text.encode())
        documents_by_kind[document.kind] = documents_by_kind.get(document.kind, 0) + 1
    return Corpus(documents, bytes_by_kind, documents_by_kind, table_counts, bucket_counts, executions)


def _outbox(cloud: LocalCloud) -> list[dict[str, Any]]:
    # Through the route a person would use (and so recorded like any response).
    return list(requests.get(f"{cloud.api_url}/_local/outbox", timeout=30).json()["items"])


# -- what may hold personal data in clear, and why ---------------------------------------------------
IN_CLEAR_OUTSIDE_OUR_SYSTEM = {
    # The civil registry's own population: Dukcapil's data, which e-KYC asks about.
    (scan.CIVIL_REGISTRY, scan.NIK): "the civil registry's own residents",
    (scan.CIVIL_REGISTRY, scan.KK): "the civil registry's own residents",
    (scan.CIVIL_REGISTRY, scan.NAME): "the civil registry's own residents",
    (scan.CIVIL_REGISTRY, scan.NAME_WORD): "the civil registry's own residents",
    # A payment partner's record of a transfer names the account it paid (an e-wallet's is a phone).
    (scan.PAYMENT_PARTNER, scan.ACCOUNT): "the partner's own record of the account it paid",
    (scan.PAYMENT_PARTNER, scan.PHONE): "the partner's own record of the e-wallet (a phone number) it paid",
    # An SMS is addressed to the phone it goes to.
    (scan.SMS, scan.PHONE): "an SMS is addressed to the applicant's phone",
    # The account's login in Cognito is the e-mail address the test signed up with.
    (scan.IDENTITY_PROVIDER, scan.EMAIL): "the account's login e-mail at the identity provider",
}
OWNER_MAY_SEE = {scan.NAME, scan.NAME_WORD, scan.PHONE, scan.EMAIL}
OPS = "ops"  # the operator's token among the allowance's tokens
# A complaint's text is shown as its author wrote it (a NIK included) to its author and to ops.
OWN_COMPLAINT = "the applicant's own complaint, as they wrote it"
COMPLAINT_FOR_OPS = "a complaint's text, read by the ops user answering it"


def allowance(tokens: dict[str, str]) -> scan.Allowance:
    """Why a value may be where it was found (None: it may not). ``tokens``: person -> bearer token."""

    def allowed(document: scan.Document, needle: scan.Needle) -> str | None:  # noqa: PLR0911 - one per rule
        reason = IN_CLEAR_OUTSIDE_OUR_SYSTEM.get((document.kind, needle.field))
        if reason:
            return reason
        exchange = document.response
        if exchange is None:
            return None
        if exchange.path == "/_local/tokens" and needle.field == scan.EMAIL:
            return "the token the test asked for carries the e-mail it gave"
        own = exchange.authorization == f"Bearer {tokens.get(needle.person)}"
        if (exchange.method, exchange.path) == OWN_PROFILE and own and needle.field in OWNER_MAY_SEE:
            return "the applicant's own profile"
        if exchange.path.startswith("/v1/complaints/") and own:
            return OWN_COMPLAINT
        if exchange.path.startswith("/v1/ops/complaints/") and exchange.authorization == f"Bearer {tokens.get(OPS)}":
            return COMPLAINT_FOR_OPS
        return None

    return allowed


def findings(journey: Journey, corpus: Corpus, kinds: set[str]) -> list[scan.Finding]:
    documents = [d for d in corpus.documents if d.kind in kinds]
    return scan.search(documents, journey.needles(), allowance(journey.tokens()))


# -- the tests ---------------------------------------------------------------------------------------
AT_REST_AND_IN_LOGS = [
    scan.FUNCTION_LOG,
    scan.METRICS,
    scan.RUNTIME_LOG,
    scan.EXECUTION,
    scan.S3,
    scan.DYNAMODB,
    scan.OUTBOX,
    scan.SMS,
    scan.QUEUED,
    scan.PAYMENT_PARTNER,
    scan.CIVIL_REGISTRY,
    scan.IDENTITY_PROVIDER,
]


def test_the_scan_covers_every_store_and_would_see_the_data(
    journey: Journey, corpus: Corpus, cloud: LocalCloud
) -> None:
    """An empty or partial capture must not pass: every function logged, every table and bucket
    that the journey writes holds items, every workflow ran, and the values are found where they
    legitimately are (so the search itself works on this corpus)."""
    logs = [d for d in corpus.documents if d.kind in (scan.FUNCTION_LOG, scan.METRICS)]
    # The program's functions (CDK's deploy-time providers, such as dev's bucket auto-delete, never run here).
    functions = {f.logical_id for f in cloud.resources.of_type("AWS::Lambda::Function") if runs_here(f.properties)}
    structured = {d.source for d in logs if d.text.startswith("{")}
    assert structured == functions, f"no Powertools lines from {sorted(functions - structured)}"
    assert len({d.source for d in logs if d.kind == scan.METRICS}) >= 10
    assert any("profile created" in d.text for d in logs)
    assert any(" localcloud.api " in d.text for d in corpus.documents if d.kind == scan.RUNTIME_LOG)

    # The access-log bucket stays empty locally: moto writes no server access logs.
    assert {name for name, count in corpus.buckets.items() if count == 0} <= {
        n for n in corpus.buckets if n.startswith("DataAccessLogsBucket")
    }, corpus.buckets
    # Every store the template declares, so that a table or workflow added later is scanned too.
    assert len(corpus.buckets) == len(cloud.resources.of_type("AWS::S3::Bucket"))
    assert len(corpus.tables) == len(cloud.resources.of_type("AWS::DynamoDB::Table")), corpus.tables
    assert all(corpus.tables.values()), corpus.tables
    assert all(corpus.executions.executions_by_machine.values()), corpus.executions.executions_by_machine
    machines = cloud.resources.of_type("AWS::StepFunctions::StateMachine")
    assert len(corpus.executions.executions_by_machine) == len(machines)
    assert corpus.executions.events > 100
    assert corpus.executions.map_runs >= 3  # the selection's two and the payout run's
    for kind in (scan.SMS, scan.PAYMENT_PARTNER, scan.OUTBOX, scan.HTTP):
        assert corpus.documents_by_kind.get(kind, 0) >= 3, kind

    seen = findings(journey, corpus, {scan.CIVIL_REGISTRY, scan.PAYMENT_PARTNER, scan.SMS, scan.HTTP})
    found = {(f.needle.person, f.needle.field, f.document.kind) for f in seen}
    for person in "ABCL":
        assert (person, scan.NIK, scan.CIVIL_REGISTRY) in found
        assert (person, scan.NAME, scan.HTTP) in found  # in the owner's GET /v1/applicants/me
    assert {("A", scan.ACCOUNT, scan.PAYMENT_PARTNER), ("B", scan.ACCOUNT, scan.PAYMENT_PARTNER)} <= found
    assert {(p, scan.PHONE, scan.SMS) for p in "ABC"} <= found

    needles = journey.needles()
    print(f"\nscanned {len(needles)} values of {len(journey.people) + 1} people over:")
    for kind in sorted(corpus.bytes_by_kind):
        print(f"  {kind:<18} {corpus.documents_by_kind[kind]:>7} documents {corpus.bytes_by_kind[kind]:>10} bytes")
    print(f"  + {len(corpus.documents) - sum(corpus.documents_by_kind.values())} base64 strings decoded and scanned")
    print(f"  tables {corpus.tables}\n  buckets {corpus.buckets}")
    print(f"  executions {corpus.executions.executions_by_machine}, {corpus.executions.events} history events")
    everywhere = findings(journey, corpus, set(corpus.documents_by_kind))
    reasons: dict[str, int] = {}
    for finding in everywhere:
        reasons[str(finding.allowed_because)] = reasons.get(str(finding.allowed_because), 0) + 1
    print(f"  found in clear: {reasons}")


@pytest.mark.parametrize("kind", AT_REST_AND_IN_LOGS)
def test_no_personal_data_in_clear_where_the_system_keeps_or_prints_it(
    journey: Journey, corpus: Corpus, kind: str
) -> None:
    leaks = [f.describe() for f in findings(journey, corpus, {kind}) if f.allowed_because is None]
    assert not leaks, "\n".join(leaks[:40])


def test_http_responses_show_name_phone_and_email_only_to_their_owner_and_numbers_never(
    journey: Journey, corpus: Corpus
) -> None:
    everything = findings(journey, corpus, {scan.HTTP})
    leaks = [f.describe() for f in everything if f.allowed_because is None]
    assert not leaks, "\n".join(leaks[:40])
    # What A typed into a complaint, A's NIK included, went back only to A and to ops.
    complaints = [f for f in everything if f.allowed_because in (OWN_COMPLAINT, COMPLAINT_FOR_OPS)]
    assert {(f.needle.person, f.needle.field) for f in complaints} >= {("A", scan.NIK), ("A", scan.NAME)}
    seen = [f for f in everything if f not in complaints]
    shown = {f.needle.field for f in seen}
    assert shown <= OWNER_MAY_SEE, shown  # never a NIK, KK or account number, not even to the owner
    owner_only = [f.document.response for f in seen if f.needle.field != scan.EMAIL]
    assert all(r is not None and (r.method, r.path) == OWN_PROFILE for r in owner_only)


def test_the_allowances_are_exact(journey: Journey) -> None:
    """A masked value is not a finding; another applicant's profile response is."""
    a, b = journey.people["A"], journey.people["B"]
    check = allowance({"A": str(a.token), "B": str(b.token)})
    own = Received("GET", "/v1/applicants/me", 200, f"Bearer {a.token}", json.dumps({"full_name": a.body["full_name"]}))
    other = Received("GET", "/v1/applicants/me", 200, f"Bearer {b.token}", own.body)
    needles = [n for n in a.needles() if n.field == scan.NAME]
    assert [f.allowed_because for f in scan.search(scan.http_responses([own]), needles, check)] == [
        "the applicant's own profile"
    ]
    assert [f.allowed_because for f in scan.search(scan.http_responses([other]), needles, check)] == [None]
    masked = {"nik": "32**********0001", "account_number": "******5601", "buyer_name": "W******* C**********"}
    assert scan.search([scan.Document(scan.DYNAMODB, "t", json.dumps(masked))], a.needles(), check) == []
