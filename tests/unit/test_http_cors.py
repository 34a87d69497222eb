"""CORS headers of the API functions (prakerja.http.app): the allowed browser origins get their
origin back on every answer, problems and refusals before routing included; others get none."""

from __future__ import annotations

import base64
import json
from typing import Any, cast

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from prakerja.config import CORS_EXPOSED_HEADERS, CORS_ORIGINS_VARIABLE, CorsSettings, PublicApiSettings, load_settings
from prakerja.errors import Conflict, Forbidden
from prakerja.http.app import MAX_BODY_BYTES, ProblemResolver, create_app

ORIGINS = ("http://localhost:5173", "http://127.0.0.1:5173")
EXPOSED = "Retry-After,x-amzn-RequestId"
CONTEXT = cast(LambdaContext, object())


class Greeting(BaseModel):
    name: str


router = Router()


@router.get("/v1/hello")
def _hello() -> dict[str, str]:
    return {"hello": "world"}


@router.post("/v1/hello")
def _hello_post(greeting: Greeting) -> dict[str, str]:
    return {"hello": greeting.name}


@router.get("/v1/conflict")
def _conflict() -> dict[str, str]:
    raise Conflict("ALREADY_THERE", "It is already there.")


@router.get("/v1/broken")
def _broken() -> dict[str, str]:
    raise RuntimeError("a bug")


def _app(origins: tuple[str, ...] = ORIGINS) -> ProblemResolver:
    app = create_app(origins)
    app.include_router(router)
    return app


def _event(
    method: str, path: str, origin: str | None = None, body: str | None = None, *, base64_body: bool = False
) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if origin is not None:
        headers["origin"] = origin  # HTTP/2 clients send lower-case names
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "requestContext": {"requestId": "r-1", "resourcePath": path, "httpMethod": method, "stage": "dev"},
        "body": body,
        "isBase64Encoded": base64_body,
    }


def _headers(answer: dict[str, Any]) -> dict[str, str]:
    """The answer's headers as API Gateway merges them, by lower-case name."""
    merged = {name.lower(): str(value) for name, value in (answer.get("headers") or {}).items()}
    for name, values in (answer.get("multiValueHeaders") or {}).items():
        merged[name.lower()] = ", ".join(str(v) for v in values)
    return merged


def _assert_allowed(answer: dict[str, Any], origin: str) -> None:
    headers = _headers(answer)
    assert headers["access-control-allow-origin"] == origin
    assert headers["access-control-expose-headers"] == EXPOSED
    assert headers["vary"] == "Origin"


@pytest.mark.parametrize("origin", ORIGINS)
def test_an_allowed_origin_gets_itself_back_on_a_success(origin: str) -> None:
    answer = _app().resolve(_event("GET", "/v1/hello", origin), CONTEXT)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"hello": "world"}
    _assert_allowed(answer, origin)
    assert "access-control-allow-credentials" not in _headers(answer)


@pytest.mark.parametrize(
    ("event", "status"),
    [
        (_event("GET", "/v1/conflict", ORIGINS[1]), 409),  # a domain error
        (_event("POST", "/v1/hello", ORIGINS[1], json.dumps({"nom": "x"})), 422),  # validation
        (_event("POST", "/v1/hello", ORIGINS[1], "{not json"), 400),
        (_event("GET", "/v1/broken", ORIGINS[1]), 500),
        (_event("GET", "/v1/no-such-route", ORIGINS[1]), 404),
        # Refused before routing:
        (_event("POST", "/v1/hello", ORIGINS[1], "x" * (MAX_BODY_BYTES + 1)), 413),
        (_event("POST", "/v1/hello", ORIGINS[1], base64.b64encode(b"\xff\xfe").decode(), base64_body=True), 400),
    ],
)
def test_an_allowed_origin_gets_itself_back_on_every_problem(event: dict[str, Any], status: int) -> None:
    answer = _app().resolve(event, CONTEXT)
    assert answer["statusCode"] == status
    assert _headers(answer)["content-type"] == "application/problem+json"
    _assert_allowed(answer, ORIGINS[1])


def test_a_refusal_made_by_a_handler_before_routing_carries_the_headers() -> None:
    answer = _app().refuse(_event("GET", "/v1/ops/waves", ORIGINS[0]), Forbidden("OPS_ONLY", "Ops only."))
    assert answer["statusCode"] == 403
    assert json.loads(answer["body"])["code"] == "OPS_ONLY"
    _assert_allowed(answer, ORIGINS[0])


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://localhost:5174",
        "http://localhost:5173/",
        "HTTP://LOCALHOST:5173",
        "null",
        "*",
        "http://localhost:5173, https://evil.example",
    ],
)
def test_an_unknown_origin_gets_no_allow_origin(origin: str) -> None:
    for event in (
        _event("GET", "/v1/hello", origin),
        _event("GET", "/v1/conflict", origin),
        _event("POST", "/v1/hello", origin, "x" * (MAX_BODY_BYTES + 1)),
    ):
        headers = _headers(_app().resolve(event, CONTEXT))
        assert "access-control-allow-origin" not in headers
        assert "access-control-expose-headers" not in headers
        assert headers["vary"] == "Origin"  # a cache must not hand this answer to an allowed origin


def test_a_call_without_origin_gets_no_allow_origin() -> None:
    headers = _headers(_app().resolve(_event("GET", "/v1/hello"), CONTEXT))
    assert "access-control-allow-origin" not in headers
    assert headers["vary"] == "Origin"


def test_without_origins_there_are_no_cors_headers() -> None:
    app = create_app()
    app.include_router(router)
    for event in (
        _event("GET", "/v1/hello", ORIGINS[0]),
        _event("GET", "/v1/conflict", ORIGINS[0]),
        _event("POST", "/v1/hello", ORIGINS[0], "x" * (MAX_BODY_BYTES + 1)),
    ):
        headers = _headers(app.resolve(event, CONTEXT))
        assert not {name for name in headers if name.startswith("access-control-")}
        assert "vary" not in headers


def test_an_existing_vary_keeps_its_names() -> None:
    answer: dict[str, Any] = {"statusCode": 200, "body": "", "multiValueHeaders": {"vary": ["Accept-Encoding"]}}
    headers = _headers(_app().with_cors(_event("GET", "/v1/hello", ORIGINS[0]), answer))
    assert headers["vary"] == "Accept-Encoding, Origin"
    assert headers["access-control-allow-origin"] == ORIGINS[0]


def test_the_exposed_headers_are_those_of_the_preflight() -> None:
    assert ",".join(CORS_EXPOSED_HEADERS) == EXPOSED


def test_origins_come_from_the_variable_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CORS_ORIGINS_VARIABLE == "CORS_ALLOWED_ORIGINS"
    assert CORS_ORIGINS_VARIABLE.lower() in CorsSettings.model_fields
    monkeypatch.setenv(CORS_ORIGINS_VARIABLE, " http://localhost:5173,http://127.0.0.1:5173 ")
    assert load_settings(CorsSettings).cors_allowed_origins == ORIGINS
    monkeypatch.setenv("WAVES_TABLE", "waves")
    monkeypatch.setenv("SELECTION_BUCKET", "selection")
    assert load_settings(PublicApiSettings).cors_allowed_origins == ORIGINS
    monkeypatch.delenv(CORS_ORIGINS_VARIABLE)
    assert load_settings(PublicApiSettings).cors_allowed_origins == ()


@pytest.mark.parametrize(
    "value", ["*", "null", "http://evil.example", "https://www.prakerja.example/", "https://WWW.prakerja.example"]
)
def test_an_origin_that_no_browser_would_match_safely_fails_the_cold_start(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(CORS_ORIGINS_VARIABLE, f"https://www.prakerja.example,{value}")
    with pytest.raises(ValidationError):
        load_settings(CorsSettings)
