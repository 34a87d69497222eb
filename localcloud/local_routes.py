"""`/_local/*`: what a person or a test needs to drive the system without AWS (see API.md).

Never part of the template: served by the runtime next to the emulated API Gateway.
Request bodies carry personal data (names, NIKs, birth dates) and are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from werkzeug.wrappers import Request, Response

from localcloud.civil_registry import CivilRegistry, Resident
from localcloud.program_clock import MAX_ADVANCE_SECONDS
from prakerja.errors import FieldError
from prakerja.http.problems import PROBLEM_CONTENT_TYPE, problem_body

if TYPE_CHECKING:  # payment_partners builds on this module's helpers
    from localcloud.payment_partners import PaymentPartners

_DIGITS16 = re.compile(r"^\d{16}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ClockControl(Protocol):
    """The application clock (program_clock.ProgramClock)."""

    def state(self) -> dict[str, Any]: ...

    def advance(self, seconds: int) -> dict[str, Any]: ...


class BadRequest(Exception):
    def __init__(self, status: int, code: str, detail: str, errors: list[dict[str, str]] | None = None):
        super().__init__(detail)
        self.status, self.code, self.detail, self.errors = status, code, detail, errors


def problem(status: int, code: str, title: str, detail: str, errors: list[dict[str, str]] | None = None) -> Response:
    field_errors = [FieldError(e["field"], e["message"], e.get("code", code)) for e in errors or []]
    body = problem_body(status, code, title, detail, field_errors)
    return Response(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


class TokenIssuer:
    """Mints Cognito ID tokens from the embedded user pool, creating the account if needed."""

    def __init__(self, cognito: Any, pool_id: str, client_id: str, client_secret: str | None) -> None:
        self._cognito = cognito
        self._pool_id = pool_id
        self._client_id = client_id
        self._client_secret = client_secret
        self._lock = threading.Lock()  # one account set-up at a time: no create races

    def token(self, email: str, groups: list[str]) -> str:
        password = f"Lc-{secrets.token_urlsafe(12)}aA1!"  # meets any Cognito password policy
        with self._lock:
            idp = self._cognito
            try:  # most tokens are for new accounts (a surge's sign-ups): create first
                idp.admin_create_user(
                    UserPoolId=self._pool_id,
                    Username=email,
                    UserAttributes=[
                        {"Name": "email", "Value": email},
                        {"Name": "email_verified", "Value": "true"},
                    ],
                    MessageAction="SUPPRESS",
                )
                created = True
            except idp.exceptions.UsernameExistsException:
                created = False
            idp.admin_set_user_password(UserPoolId=self._pool_id, Username=email, Password=password, Permanent=True)
            if groups or not created:  # a new account is in no group
                self._set_groups(email, groups)
            params = {"USERNAME": email, "PASSWORD": password}
            if self._client_secret:
                digest = hmac.new(
                    self._client_secret.encode(), (email + self._client_id).encode(), hashlib.sha256
                ).digest()
                params["SECRET_HASH"] = base64.b64encode(digest).decode()
            result = idp.admin_initiate_auth(
                UserPoolId=self._pool_id,
                ClientId=self._client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters=params,
            )
        return str(result["AuthenticationResult"]["IdToken"])

    def _set_groups(self, email: str, groups: list[str]) -> None:
        """The account's groups become exactly `groups`, so a token says what was asked."""
        idp = self._cognito
        current = {
            g["GroupName"] for g in idp.admin_list_groups_for_user(UserPoolId=self._pool_id, Username=email)["Groups"]
        }
        for group in set(groups) - current:
            try:
                idp.get_group(GroupName=group, UserPoolId=self._pool_id)
            except idp.exceptions.ResourceNotFoundException:
                idp.create_group(GroupName=group, UserPoolId=self._pool_id)
            idp.admin_add_user_to_group(UserPoolId=self._pool_id, Username=email, GroupName=group)
        for group in current - set(groups):
            idp.admin_remove_user_from_group(UserPoolId=self._pool_id, Username=email, GroupName=group)


class LocalRoutes:
    def __init__(
        self,
        registry: CivilRegistry,
        token_issuer: Callable[[], TokenIssuer | None],
        resources: Callable[[], dict[str, Any]],
        outbox: Callable[[], list[dict[str, Any]]] = list,
        *,
        clock: ClockControl | None = None,
        partners: Callable[[], list[dict[str, Any]]] = list,
        payments: PaymentPartners | None = None,
        aws: Callable[[], dict[str, Any]] = dict,
        usage: Callable[[], dict[str, Any]] = dict,
    ) -> None:
        self.registry = registry
        self._token_issuer = token_issuer
        self._resources = resources
        self._outbox_messages = outbox
        self._clock = clock
        self._partners = partners
        self._routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("POST", "/_local/tokens"): self._tokens,
            ("POST", "/_local/population"): self._population,
            ("POST", "/_local/dukcapil/verify"): self._dukcapil_verify,
            ("POST", "/_local/dukcapil/outage"): self._dukcapil_outage,
            ("GET", "/_local/assessment-key"): self._assessment_key,
            ("GET", "/_local/outbox"): self._outbox,
            ("GET", "/_local/resources"): lambda _: json_response(self._resources()),
            ("GET", "/_local/partners"): lambda _: json_response(self._partners()),
            # The embedded AWS endpoint and the stack's outputs: what tools (tools/ops.py) would
            # read from CloudFormation on AWS.
            ("GET", "/_local/aws"): lambda _: json_response(aws()),
            # AWS requests and function invocations so far: the operation counts behind
            # docs/cost.md (`make demo` records them).
            ("GET", "/_local/usage"): lambda _: json_response(usage()),
            ("GET", "/_local/clock"): self._clock_state,
            ("POST", "/_local/clock"): self._clock_advance,
        }
        # Paths with variables: the handler matches the rest (and answers 404/405 itself).
        self._prefixed: list[tuple[str, Callable[[Request], Response]]] = []
        if payments is not None:
            self._routes[("POST", "/_local/payment-faults")] = payments.faults_route
            self._prefixed.append(("/_local/payment-partners/", payments.partner_route))

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        route = self._routes.get((request.method, path)) or next(
            (handler for prefix, handler in self._prefixed if path.startswith(prefix)), None
        )
        if route is None:
            known = any(known_path == path for _, known_path in self._routes)
            if known:
                return problem(405, "METHOD_NOT_ALLOWED", "Method not allowed", "Not supported here.")
            return problem(404, "NOT_FOUND", "Not found", "No such local route.")
        try:
            return route(request)
        except BadRequest as error:
            title = "Malformed request" if error.status == 400 else "Validation failed"
            return problem(error.status, error.code, title, error.detail, error.errors)

    # -- handlers ---------------------------------------------------------------------------
    def _tokens(self, request: Request) -> Response:
        body = _json_object(request)
        email = body.get("email")
        groups = body.get("groups", [])
        errors = []
        if not isinstance(email, str) or not _EMAIL.match(email):
            errors.append({"field": "email", "message": "an e-mail address is required"})
        if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
            errors.append({"field": "groups", "message": "a list of group names"})
        if errors:
            raise BadRequest(422, "VALIDATION_FAILED", "The request has invalid fields.", errors)
        issuer = self._token_issuer()
        if issuer is None:
            return problem(501, "NO_USER_POOL", "Not available", "The template has no Cognito user pool.")
        return json_response({"token": issuer.token(str(email).lower(), list(groups))})

    def _population(self, request: Request) -> Response:
        body = _json_object(request)
        items = body.get("residents")
        if not isinstance(items, list):
            raise BadRequest(
                422, "VALIDATION_FAILED", "`residents` must be a list.", [{"field": "residents", "message": "a list"}]
            )
        residents = [_resident(i, item) for i, item in enumerate(items)]
        return json_response({"added": self.registry.add(residents)}, status=201)

    def _dukcapil_verify(self, request: Request) -> Response:
        if self.registry.take_outage():
            response = problem(503, "UNAVAILABLE", "Service unavailable", "The civil registry is down.")
            response.headers["Retry-After"] = "1"
            return response
        body = _json_object(request)
        fields = {name: body.get(name) for name in ("nik", "full_name", "date_of_birth")}
        bad = [{"field": k, "message": "a string is required"} for k, v in fields.items() if not isinstance(v, str)]
        if bad:
            raise BadRequest(422, "VALIDATION_FAILED", "The request has invalid fields.", bad)
        return json_response(self.registry.verify(**{k: str(v) for k, v in fields.items()}))

    def _dukcapil_outage(self, request: Request) -> Response:
        count = _json_object(request).get("fail_next")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            errors = [{"field": "fail_next", "message": "a count of calls, 0 or more"}]
            raise BadRequest(422, "VALIDATION_FAILED", "The request has invalid fields.", errors)
        self.registry.fail_next(count)
        return json_response({"fail_next": count})

    def _clock_state(self, request: Request) -> Response:
        if self._clock is None:
            return problem(501, "NO_CLOCK", "Not available", "This runtime has no application clock.")
        return json_response(self._clock.state())

    def _clock_advance(self, request: Request) -> Response:
        """Moves program time forward and runs the scheduled jobs that fell due, waiting for them."""
        seconds = _json_object(request).get("advance_seconds")
        if not isinstance(seconds, int) or isinstance(seconds, bool) or not 0 <= seconds <= MAX_ADVANCE_SECONDS:
            errors = [{"field": "advance_seconds", "message": f"whole seconds, 0 to {MAX_ADVANCE_SECONDS}"}]
            raise BadRequest(422, "VALIDATION_FAILED", "The request has invalid fields.", errors)
        if self._clock is None:
            return problem(501, "NO_CLOCK", "Not available", "This runtime has no application clock.")
        return json_response(self._clock.advance(seconds))

    def _outbox(self, request: Request) -> Response:
        """The notifications written so far (on AWS the notifier texts them): ids and codes, no
        personal data. ``?applicant_id=`` keeps one applicant's."""
        wanted = request.args.get("applicant_id")
        items = [m for m in self._outbox_messages() if wanted is None or m.get("applicant_id") == wanted]
        items.sort(key=lambda m: (str(m.get("created_at", "")), str(m.get("pk")), str(m.get("sk"))))
        return json_response({"items": items})

    def _assessment_key(self, request: Request) -> Response:
        from prakerja.registration.assessment import load_assessment  # noqa: PLC0415 - optional

        return json_response({"answers": load_assessment().answer_key()})


def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(400, "MALFORMED_JSON", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest(400, "MALFORMED_JSON", "The body must be a JSON object.")
    return body


def _resident(index: int, item: Any) -> Resident:
    errors: list[dict[str, str]] = []
    if not isinstance(item, dict):
        item = {}
        errors.append({"field": f"residents[{index}]", "message": "an object"})

    def field(name: str, ok: Callable[[str], bool], message: str) -> str:
        value = item.get(name)
        if not isinstance(value, str) or not ok(value):
            errors.append({"field": f"residents[{index}].{name}", "message": message})
            return ""
        return value

    nik = field("nik", lambda v: bool(_DIGITS16.match(v)), "16 digits")
    kk = field("kk_number", lambda v: bool(_DIGITS16.match(v)), "16 digits")
    name = field("full_name", lambda v: bool(v.strip()), "a name")
    dob = field("date_of_birth", _is_iso_date, "a date, YYYY-MM-DD")
    gender = field("gender", lambda v: v in ("M", "F"), '"M" or "F"')
    if errors:
        raise BadRequest(422, "VALIDATION_FAILED", "A resident has invalid fields.", errors)
    return Resident(nik, kk, name, date.fromisoformat(dob), gender)


def _is_iso_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10
