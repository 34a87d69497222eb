"""Who may call what, over every deployed route: anonymous, two applicants, ops, two training
platforms and two payment partners. Nobody reads or changes another applicant's data (404,
not 403, so ids leak nothing); applicants cannot call ops or partner routes; partners reach
only their own vouchers and transfers. Then every kind of bad credential on every route that
takes one: forged, expired, from another user pool, `alg: none`, HS256 keyed with the public
key; and partner signatures replayed for another body, another partner or after their window.

A route added to the template without a row in ROUTES fails the first test, so later routes
join the matrix.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from moto.utilities.utils import load_resource

from localcloud.local_routes import TokenIssuer
from tests.e2e.conftest import Api
from tests.e2e_payouts.journey import complete_and_review, link, run_payouts


class Access(Enum):
    PUBLIC = "public"
    APPLICANT = "applicant"  # a Cognito user; their own data only
    OPS = "ops"  # a Cognito user in the ops group
    PLATFORM = "platform"  # a signed training platform; its own vouchers only
    PAYMENT = "payment"  # a signed payment partner; its own transfers only


class Who(Enum):
    ANONYMOUS = "anonymous"
    APPLICANT_A = "applicant A"  # owns the purchase, voucher and transfer below
    APPLICANT_B = "applicant B"
    OPS = "ops"
    PLATFORM = "A's platform"
    OTHER_PLATFORM = "another platform"
    PAYER = "A's payment partner"
    OTHER_PAYER = "another payment partner"


@dataclass(frozen=True)
class World:
    """What the requests address: applicant A's resources, and ids ops routes need."""

    tokens: dict[Who, str]
    partners: dict[Who, str]  # partner ids
    secrets: dict[str, str]
    purchase_id: str  # A's
    voucher_code: str  # A's
    certificate_id: str
    completed_at: str
    card_number: str  # A's
    transfer_id: str  # A's incentive, sent through PAYER
    transfer_reference: str
    wave_id: str
    training_id: str
    ticket_id: str  # A's complaint


Request = tuple[str, Any]  # path, JSON body (None: no body)
ROUTES: dict[tuple[str, str], tuple[Access, Callable[[World], Request]]] = {
    ("GET", "/v1/health"): (Access.PUBLIC, lambda w: ("/v1/health", None)),
    ("GET", "/v1/openapi.json"): (Access.PUBLIC, lambda w: ("/v1/openapi.json", None)),
    ("GET", "/v1/docs"): (Access.PUBLIC, lambda w: ("/v1/docs", None)),
    ("GET", "/v1/waves/{wave_id}/draw"): (Access.PUBLIC, lambda w: (f"/v1/waves/{w.wave_id}/draw", None)),
    # Applicant routes say "me": nobody can even name another applicant's profile. Bodies are
    # refused by validation where a valid one would change A's state; the matrix is about who.
    ("POST", "/v1/applicants"): (Access.APPLICANT, lambda w: ("/v1/applicants", {})),
    ("GET", "/v1/applicants/me"): (Access.APPLICANT, lambda w: ("/v1/applicants/me", None)),
    ("PUT", "/v1/applicants/me"): (Access.APPLICANT, lambda w: ("/v1/applicants/me", {})),
    ("POST", "/v1/applicants/me/assessment"): (
        Access.APPLICANT,
        lambda w: ("/v1/applicants/me/assessment", {"answers": [{"question_id": "nope", "option_id": "x"}]}),
    ),
    ("GET", "/v1/applicants/me/payout-account"): (
        Access.APPLICANT,
        lambda w: ("/v1/applicants/me/payout-account", None),
    ),
    ("PUT", "/v1/applicants/me/payout-account"): (
        Access.APPLICANT,
        lambda w: ("/v1/applicants/me/payout-account", {"type": "BANK", "provider": "OVO", "account_number": "1234"}),
    ),
    ("GET", "/v1/applicants/me/payouts"): (Access.APPLICANT, lambda w: ("/v1/applicants/me/payouts", None)),
    ("GET", "/v1/assessment"): (Access.APPLICANT, lambda w: ("/v1/assessment", None)),
    ("GET", "/v1/waves"): (Access.APPLICANT, lambda w: ("/v1/waves", None)),
    ("POST", "/v1/waves/{wave_id}/join"): (Access.APPLICANT, lambda w: (f"/v1/waves/{w.wave_id}/join", None)),
    ("GET", "/v1/trainings"): (Access.APPLICANT, lambda w: ("/v1/trainings", None)),
    ("GET", "/v1/trainings/{training_id}"): (Access.APPLICANT, lambda w: (f"/v1/trainings/{w.training_id}", None)),
    ("GET", "/v1/purchases"): (Access.APPLICANT, lambda w: ("/v1/purchases", None)),
    ("POST", "/v1/purchases"): (Access.APPLICANT, lambda w: ("/v1/purchases", {"training_id": "trn-000000000000"})),
    ("POST", "/v1/purchases/{purchase_id}/review"): (
        Access.APPLICANT,
        lambda w: (f"/v1/purchases/{w.purchase_id}/review", {"rating": 1, "review": "not mine"}),
    ),
    ("GET", "/v1/surveys"): (Access.APPLICANT, lambda w: ("/v1/surveys", None)),
    ("POST", "/v1/surveys/{survey_id}/responses"): (
        Access.APPLICANT,
        lambda w: ("/v1/surveys/post-training/responses", {}),
    ),
    ("POST", "/v1/complaints"): (Access.APPLICANT, lambda w: ("/v1/complaints", {})),
    ("GET", "/v1/complaints"): (Access.APPLICANT, lambda w: ("/v1/complaints", None)),
    ("GET", "/v1/complaints/{ticket_id}"): (Access.APPLICANT, lambda w: (f"/v1/complaints/{w.ticket_id}", None)),
    ("POST", "/v1/complaints/{ticket_id}/messages"): (
        Access.APPLICANT,
        lambda w: (f"/v1/complaints/{w.ticket_id}/messages", {"message": "not mine"}),
    ),
    ("GET", "/v1/ops/complaints"): (Access.OPS, lambda w: ("/v1/ops/complaints?overdue=true", None)),
    ("GET", "/v1/ops/complaints/{ticket_id}"): (Access.OPS, lambda w: (f"/v1/ops/complaints/{w.ticket_id}", None)),
    ("POST", "/v1/ops/complaints/{ticket_id}/updates"): (
        Access.OPS,
        lambda w: (f"/v1/ops/complaints/{w.ticket_id}/updates", {}),
    ),
    ("POST", "/v1/ops/exclusion-lists/{source}"): (Access.OPS, lambda w: ("/v1/ops/exclusion-lists/ASN", {"niks": []})),
    ("POST", "/v1/ops/exclusion-lists/{source}/removals"): (
        Access.OPS,
        lambda w: ("/v1/ops/exclusion-lists/ASN/removals", {"niks": []}),
    ),
    # Ops actions: an empty reason (422) and unknown actions (404) change nothing of A's.
    ("POST", "/v1/ops/applicants/{applicant_id}/actions"): (
        Access.OPS,
        lambda w: ("/v1/ops/applicants/unknown-applicant/actions", {"action": "HOLD_PAYOUTS", "reason": ""}),
    ),
    ("GET", "/v1/ops/audit-log"): (Access.OPS, lambda w: ("/v1/ops/audit-log?limit=5", None)),
    ("GET", "/v1/ops/actions"): (Access.OPS, lambda w: ("/v1/ops/actions?status=PENDING_APPROVAL", None)),
    ("GET", "/v1/ops/actions/{action_id}"): (Access.OPS, lambda w: ("/v1/ops/actions/unknown-action", None)),
    ("POST", "/v1/ops/actions/{action_id}/approve"): (
        Access.OPS,
        lambda w: ("/v1/ops/actions/unknown-action/approve", {}),
    ),
    ("POST", "/v1/ops/actions/{action_id}/reject"): (
        Access.OPS,
        lambda w: ("/v1/ops/actions/unknown-action/reject", {"reason": "not needed"}),
    ),
    ("GET", "/v1/ops/ledger"): (Access.OPS, lambda w: ("/v1/ops/ledger", None)),
    ("POST", "/v1/ops/applicants/search"): (Access.OPS, lambda w: ("/v1/ops/applicants/search", {"applicant_id": "x"})),
    ("GET", "/v1/ops/applicants/{applicant_id}"): (Access.OPS, lambda w: ("/v1/ops/applicants/nobody", None)),
    ("GET", "/v1/ops/ledger/accounts/{account_id}"): (Access.OPS, lambda w: ("/v1/ops/ledger/accounts/PAID_OUT", None)),
    ("POST", "/v1/ops/ledger/allocations"): (Access.OPS, lambda w: ("/v1/ops/ledger/allocations", {})),
    ("POST", "/v1/ops/payout-runs"): (Access.OPS, lambda w: ("/v1/ops/payout-runs", None)),
    ("POST", "/v1/ops/reconciliations"): (Access.OPS, lambda w: ("/v1/ops/reconciliations", {})),
    ("GET", "/v1/ops/reconciliations/{provider}/{day}"): (
        Access.OPS,
        lambda w: ("/v1/ops/reconciliations/BNI/2026-01-01", None),
    ),
    ("GET", "/v1/ops/payouts"): (Access.OPS, lambda w: ("/v1/ops/payouts?status=FAILED", None)),
    ("GET", "/v1/ops/payouts/failure-counts"): (Access.OPS, lambda w: ("/v1/ops/payouts/failure-counts", None)),
    ("POST", "/v1/ops/trainings"): (Access.OPS, lambda w: ("/v1/ops/trainings", {})),
    ("PUT", "/v1/ops/trainings/{training_id}"): (Access.OPS, lambda w: (f"/v1/ops/trainings/{w.training_id}", {})),
    ("GET", "/v1/ops/waves"): (Access.OPS, lambda w: ("/v1/ops/waves", None)),
    ("POST", "/v1/ops/waves"): (Access.OPS, lambda w: ("/v1/ops/waves", {})),
    ("GET", "/v1/ops/waves/{wave_id}"): (Access.OPS, lambda w: (f"/v1/ops/waves/{w.wave_id}", None)),
    ("POST", "/v1/ops/waves/{wave_id}/close"): (Access.OPS, lambda w: (f"/v1/ops/waves/{w.wave_id}/close", {})),
    # Partner calls repeat what A's platform and partner already did: repeats change nothing.
    ("POST", "/v1/partner/redemptions"): (
        Access.PLATFORM,
        lambda w: ("/v1/partner/redemptions", {"voucher_code": w.voucher_code}),
    ),
    ("POST", "/v1/partner/completions"): (
        Access.PLATFORM,
        lambda w: (
            "/v1/partner/completions",
            {"voucher_code": w.voucher_code, "completed_at": w.completed_at, "certificate_id": w.certificate_id},
        ),
    ),
    ("POST", "/v1/partner/payments/{transfer_id}/callback"): (
        Access.PAYMENT,
        lambda w: (
            f"/v1/partner/payments/{w.transfer_id}/callback",
            {"status": "SUCCESS", "reference": w.transfer_reference, "failure_code": None},
        ),
    ),
}

A_COMPLAINT = "Insentif A belum masuk ke rekening 9988776655"
OK = "a 2xx or a business answer (not 401/403)"
ANSWERED = "any business answer (not 401)"
USERS = (Who.APPLICANT_A, Who.APPLICANT_B, Who.OPS)
PARTNERS = (Who.PLATFORM, Who.OTHER_PLATFORM, Who.PAYER, Who.OTHER_PAYER)
OWNED_BY_A = {
    ("POST", "/v1/purchases/{purchase_id}/review"),
    ("GET", "/v1/complaints/{ticket_id}"),
    ("POST", "/v1/complaints/{ticket_id}/messages"),
}


def expected(access: Access, who: Who, route: tuple[str, str]) -> int | str:  # noqa: PLR0911 - one per rule
    if access is Access.PUBLIC:
        return OK
    if who is Who.ANONYMOUS:
        return 401
    if access is Access.APPLICANT:
        if who in PARTNERS:
            return 401  # no user token
        if route in OWNED_BY_A and who is not Who.APPLICANT_A:
            return 404  # not 403: whether the id exists is nobody else's business
        return ANSWERED if who is Who.OPS else OK
    if access is Access.OPS:
        return 401 if who in PARTNERS else (OK if who is Who.OPS else 403)
    if who in USERS:
        return 401  # a partner route takes a signature, not a user token
    own, other, wrong_kind = (
        (Who.PLATFORM, Who.OTHER_PLATFORM, (Who.PAYER, Who.OTHER_PAYER))
        if access is Access.PLATFORM
        else (Who.PAYER, Who.OTHER_PAYER, (Who.PLATFORM, Who.OTHER_PLATFORM))
    )
    if who is own:
        return OK
    if who is other:
        return 404
    assert who in wrong_kind
    return 403


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> tuple[str, str]:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    return stamp, f"sha256={mac.hexdigest()}"


def send(api: Api, world: World, who: Who, method: str, path: str, body: Any) -> requests.Response:
    raw = json.dumps(body).encode() if body is not None else b""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if who in world.tokens:
        headers["Authorization"] = f"Bearer {world.tokens[who]}"
    elif who in world.partners:
        partner = world.partners[who]
        stamp, signature = sign(world.secrets[partner], raw)
        headers.update({"X-Partner-Id": partner, "X-Timestamp": stamp, "X-Signature": signature})
    return requests.request(method, f"{api.url}{path}", data=raw or None, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def world(api: Api) -> World:
    """Two recipients; A bought, completed and reviewed a course and was paid through BNI."""
    token_a, token_b = api.recipients(2)
    link(api, token_a, "BNI", "9988776655")
    complete_and_review(api, token_a)
    run_payouts(api)
    [transfer] = [t for t in api.cloud.payment_partners.transfers("BNI") if t["account_number"] == "9988776655"]
    [purchase] = api.call("GET", "/v1/purchases", token_a).json()["items"]
    profile_a = api.call("GET", "/v1/applicants/me", token_a).json()
    complaint = api.call("POST", "/v1/complaints", token_a, json={"category": "PAYMENT", "message": A_COMPLAINT})
    assert complaint.status_code == 201, complaint.text
    courses = api.call("GET", "/v1/trainings?limit=200", token_b).json()["items"]
    bought = api.call("POST", "/v1/purchases", token_b, json={"training_id": courses[0]["training_id"]})
    assert bought.status_code == 201, bought.text  # B has a purchase of its own
    platforms = sorted({c["platform"] for c in courses} - {purchase["platform"]})
    partners = {
        Who.PLATFORM: purchase["platform"],
        Who.OTHER_PLATFORM: platforms[0],
        Who.PAYER: "BNI",
        Who.OTHER_PAYER: "OVO",
    }
    return World(
        tokens={
            Who.APPLICANT_A: token_a,
            Who.APPLICANT_B: token_b,
            Who.OPS: api.token("matrix-ops@example.com", ["ops"]),
        },
        partners=partners,
        secrets={p: api.partner_secret(p) for p in partners.values()},
        purchase_id=purchase["purchase_id"],
        voucher_code=purchase["voucher_code"],
        certificate_id=purchase["certificate_id"],
        completed_at=purchase["completed_at"],
        card_number=profile_a["card"]["card_number"],
        transfer_id=transfer["transfer_id"],
        transfer_reference=transfer["reference"],
        wave_id=profile_a["wave_id"],
        training_id=purchase["training_id"],
        ticket_id=complaint.json()["ticket_id"],
    )


def test_every_deployed_route_is_in_the_matrix(api: Api) -> None:
    deployed = {(r.method, r.resource_path) for r in api.cloud.api.routes() if r.method != "OPTIONS"}
    assert deployed == set(ROUTES)


def test_authorization_matrix(api: Api, world: World) -> None:
    """Every route by every caller; a failure lists every cell that differs."""
    wrong: list[str] = []
    leaks: list[str] = []
    a_secrets = (world.purchase_id, world.voucher_code, world.card_number, world.ticket_id, A_COMPLAINT)
    for (method, route), (access, build) in ROUTES.items():
        path, body = build(world)
        for who in Who:
            answer = send(api, world, who, method, path, body)
            want = expected(access, who, (method, route))
            status = answer.status_code
            if want == OK:
                good = status < 500 and status not in (401, 403)
            elif want == ANSWERED:
                good = status < 500 and status != 401
            else:
                good = status == want
            if not good:
                wrong.append(f"{method} {route} as {who.value}: {status} (expected {want}) {answer.text[:120]}")
            if who not in (Who.APPLICANT_A, Who.OPS, Who.PLATFORM, Who.PAYER):
                leaks += [f"{method} {route} as {who.value}" for s in a_secrets if s in answer.text]
    assert not wrong, "\n".join(wrong)
    assert not leaks, "A's purchase, voucher, card or complaint shown to: " + ", ".join(leaks)
    print(f"\nauthorization matrix: {len(ROUTES)} routes x {len(Who)} callers = {len(ROUTES) * len(Who)} cells")


def test_applicants_see_only_their_own_data(api: Api, world: World) -> None:
    mine = api.call("GET", "/v1/purchases", world.tokens[Who.APPLICANT_A]).json()["items"]
    theirs = api.call("GET", "/v1/purchases", world.tokens[Who.APPLICANT_B]).json()["items"]
    assert [p["purchase_id"] for p in mine] == [world.purchase_id]
    assert theirs and world.purchase_id not in {p["purchase_id"] for p in theirs}
    profile_b = api.call("GET", "/v1/applicants/me", world.tokens[Who.APPLICANT_B]).json()
    assert profile_b["card"]["card_number"] != world.card_number
    payouts_b = api.call("GET", "/v1/applicants/me/payouts", world.tokens[Who.APPLICANT_B]).json()["items"]
    assert payouts_b == []  # A's incentive is not B's
    # B reviewing A's purchase changed nothing of A's.
    [after] = api.call("GET", "/v1/purchases", world.tokens[Who.APPLICANT_A]).json()["items"]
    assert after["review"]["review"] != "not mine"
    # A's complaint is not in B's list.
    theirs_tickets = api.call("GET", "/v1/complaints", world.tokens[Who.APPLICANT_B]).json()["items"]
    assert world.ticket_id not in {t["ticket_id"] for t in theirs_tickets}


def _claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def _moto_signing_key() -> tuple[str, Any]:
    """The embedded Cognito's own private key: a token it really issued, only expired."""
    key = load_resource("cognitoidp/resources/jwks-private.json")
    return str(key["kid"]), jwt.PyJWK.from_dict(key).key


def bad_tokens(api: Api, world: World) -> dict[str, str]:
    real = world.tokens[Who.APPLICANT_A]
    header, claims = _claims(real)
    kid, private_key = _moto_signing_key()
    own_key_other_pool = _token_of_another_pool(api)
    public = load_resource("cognitoidp/resources/jwks-public.json")["keys"][0]
    public_pem = jwt.PyJWK.from_dict(public).key.public_bytes(
        encoding=serialization.Encoding.PEM, format=serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head, payload, signature = real.split(".")

    def with_claims(**changed: Any) -> str:  # the genuine signature over other claims
        return f"{head}.{_b64(json.dumps({**claims, **changed}).encode())}.{signature}"

    return {
        "another sub": with_claims(sub="someone-else"),
        "ops group claimed by an applicant": with_claims(**{"cognito:groups": ["ops"]}),
        "forged signature": jwt.encode(claims, "not-the-key" * 4, algorithm="HS256", headers={"kid": header["kid"]}),
        "expired": jwt.encode(
            {**claims, "exp": int(time.time()) - 60}, private_key, algorithm="RS256", headers={"kid": kid}
        ),
        "from another user pool": own_key_other_pool,
        "alg none": f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT', 'kid': header['kid']}).encode())}.{payload}.",
        "HS256 keyed with the public key": _hs256_with(public_pem, claims, header["kid"]),
        "not a JWT": "garbage",
    }


def _hs256_with(secret: bytes, claims: dict[str, Any], kid: str) -> str:
    # PyJWT refuses a PEM as an HMAC key, as it should; build the token by hand.
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


def _token_of_another_pool(api: Api) -> str:
    """A genuine ID token, signed by the same embedded Cognito, for a pool this API does not use."""
    idp = api.cloud.boto3_client("cognito-idp")
    pool = idp.create_user_pool(PoolName="someone-elses-pool")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="other", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    return TokenIssuer(idp, pool, client, None).token("intruder@example.com", ["ops"])


def test_bad_tokens_are_refused_on_every_user_route(api: Api, world: World) -> None:
    user_routes = [
        (m, r, build) for (m, r), (access, build) in ROUTES.items() if access in (Access.APPLICANT, Access.OPS)
    ]
    tokens = bad_tokens(api, world)
    wrong: list[str] = []
    for kind, token in tokens.items():
        for method, route, build in user_routes:
            path, body = build(world)
            answer = requests.request(
                method, f"{api.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
            )
            if answer.status_code != 401 or answer.json().get("code") != "UNAUTHORIZED":
                wrong.append(f"{kind} on {method} {route}: {answer.status_code}")
    assert not wrong, "\n".join(wrong)
    # The genuine token still works: what was refused was the token, not the route.
    assert api.call("GET", "/v1/applicants/me", world.tokens[Who.APPLICANT_A]).status_code == 200


PARTNER_ROUTES = [(m, r) for (m, r), (access, _) in ROUTES.items() if access in (Access.PLATFORM, Access.PAYMENT)]


@pytest.mark.parametrize(("method", "route"), PARTNER_ROUTES)
def test_a_partner_signature_cannot_be_replayed(api: Api, world: World, method: str, route: str) -> None:
    access, build = ROUTES[(method, route)]
    owner = world.partners[Who.PLATFORM if access is Access.PLATFORM else Who.PAYER]
    other = world.partners[Who.OTHER_PLATFORM if access is Access.PLATFORM else Who.OTHER_PAYER]
    path, body = build(world)
    raw = json.dumps(body).encode()
    stamp, signature = sign(world.secrets[owner], raw)

    def post(data: bytes, partner: str, timestamp: str, mac: str) -> requests.Response:
        headers = {"X-Partner-Id": partner, "X-Timestamp": timestamp, "X-Signature": mac}
        return requests.post(f"{api.url}{path}", data=data, headers=headers, timeout=60)

    genuine = post(raw, owner, stamp, signature)  # a repeat: 200, or 409 for a redeemed voucher
    assert genuine.status_code in (200, 409), genuine.text
    other_body = json.dumps({**body, "extra": 1}).encode()
    # Well outside the 300 s window, whatever time the requests take to arrive.
    stale, stale_signature = sign(world.secrets[owner], raw, int(time.time()) - 330)
    future, future_signature = sign(world.secrets[owner], raw, int(time.time()) + 330)
    replays = {
        "another body": post(other_body, owner, stamp, signature),
        "another partner's id": post(raw, other, stamp, signature),
        "another timestamp": post(raw, owner, str(int(stamp) - 1), signature),
        "after its window": post(raw, owner, stale, stale_signature),
        "from the future": post(raw, owner, future, future_signature),
        "no signature": post(raw, owner, stamp, ""),
    }
    wrong = {kind: answer.status_code for kind, answer in replays.items() if answer.status_code != 401}
    assert not wrong
