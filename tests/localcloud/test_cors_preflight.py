"""CORS preflights (MOCK integrations) answered as API Gateway answers CDK's preflight methods:
the integration response's static headers, and the Origin echoed when CDK's response template
names it. Checked on the real dev template's preflight (skipped until cdk.out has it)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.wrappers import Request

from localcloud.apigateway import MockAnswer, _mock_response, mock_answer
from localcloud.template import TemplateError

synth = pytest.importorskip("synth")
TEMPLATE = synth.template_path("dev")
ORIGINS = ("http://localhost:5173", "http://127.0.0.1:5173")  # infra: the dev stage's web_origins


def _preflight_integration(path: str) -> dict[str, Any]:
    """The integration of the OPTIONS method on `path` in the synthesized dev template."""
    if not TEMPLATE.exists():
        pytest.skip("no synthesized dev template in cdk.out")
    resources: dict[str, Any] = json.loads(TEMPLATE.read_text())["Resources"]

    def path_of(resource_id: Any) -> str:
        if not isinstance(resource_id, dict) or "Ref" not in resource_id:
            return ""  # the root: Fn::GetAtt RestApi.RootResourceId
        props = resources[resource_id["Ref"]]["Properties"]
        return f"{path_of(props['ParentId'])}/{props['PathPart']}"

    for resource in resources.values():
        props = resource.get("Properties", {})
        if (
            resource["Type"] == "AWS::ApiGateway::Method"
            and props["HttpMethod"] == "OPTIONS"
            and path_of(props["ResourceId"]) == path
        ):
            integration: dict[str, Any] = props["Integration"]
            return integration
    raise AssertionError(f"no preflight for {path}")


def _preflight(answer: MockAnswer, origin: str | None, origin_header: str = "Origin") -> dict[str, str]:
    headers = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    if origin is not None:
        headers[origin_header] = origin
    response = _mock_response(answer, Request.from_values("/v1/applicants", method="OPTIONS", headers=headers))
    assert response.status_code == 204
    assert response.get_data() == b""
    return {name.lower(): value for name, value in response.headers.items()}


@pytest.fixture(scope="module")
def applicants_preflight() -> MockAnswer:
    return mock_answer(_preflight_integration("/v1/applicants"))


def test_the_dev_preflight_echoes_the_other_allowed_origins(applicants_preflight: MockAnswer) -> None:
    assert applicants_preflight.status == 204
    assert applicants_preflight.echoed_origins == frozenset(ORIGINS[1:])


def test_the_first_origin_gets_the_static_headers(applicants_preflight: MockAnswer) -> None:
    headers = _preflight(applicants_preflight, ORIGINS[0])
    assert headers["access-control-allow-origin"] == ORIGINS[0]
    assert headers["access-control-allow-methods"] == "GET,POST,PUT,OPTIONS"
    assert headers["access-control-allow-headers"] == "Authorization,Content-Type,Idempotency-Key"
    assert headers["access-control-expose-headers"] == "Retry-After,x-amzn-RequestId"
    assert headers["access-control-max-age"] == "600"
    assert headers["vary"] == "Origin"


@pytest.mark.parametrize("origin_header", ["Origin", "origin"])
def test_another_allowed_origin_is_echoed(applicants_preflight: MockAnswer, origin_header: str) -> None:
    headers = _preflight(applicants_preflight, ORIGINS[1], origin_header)
    assert headers["access-control-allow-origin"] == ORIGINS[1]
    assert headers["access-control-allow-methods"] == "GET,POST,PUT,OPTIONS"
    assert headers["vary"] == "Origin"


@pytest.mark.parametrize("origin", ["https://evil.example", "http://127.0.0.1:5173/", "", None])
def test_an_unknown_origin_gets_the_first_origin_which_the_browser_refuses(
    applicants_preflight: MockAnswer, origin: str | None
) -> None:
    assert _preflight(applicants_preflight, origin)["access-control-allow-origin"] == ORIGINS[0]


def _cdk_template(*others: str) -> str:
    """The template CDK's addCorsPreflight writes for allowOrigins [first, *others]."""
    condition = " || ".join(f'$origin == "{origin}"' for origin in others)
    return "\n".join(
        [
            '#set($origin = $input.params().header.get("Origin"))',
            '#if($origin == "")',
            '  #set($origin = $input.params().header.get("origin"))',
            "#end",
            f"#if({condition})",
            "  #set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)",
            "#end",
        ]
    )


def _integration(templates: dict[str, str] | None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "StatusCode": "204",
        "ResponseParameters": {"method.response.header.Access-Control-Allow-Origin": "'https://a.example'"},
    }
    if templates is not None:
        response["ResponseTemplates"] = templates
    return {"Type": "MOCK", "IntegrationResponses": [response]}


def test_the_template_of_the_real_preflight_is_the_one_cdk_writes() -> None:
    templates = _preflight_integration("/v1/applicants")["IntegrationResponses"][0]["ResponseTemplates"]
    assert templates == {"application/json": _cdk_template(*ORIGINS[1:])}


def test_every_origin_of_the_condition_is_echoed() -> None:
    answer = mock_answer(_integration({"application/json": _cdk_template("https://b.example", "https://c.example")}))
    assert answer.echoed_origins == {"https://b.example", "https://c.example"}
    for origin, expected in [
        ("https://a.example", "https://a.example"),
        ("https://b.example", "https://b.example"),
        ("https://c.example", "https://c.example"),
        ("https://d.example", "https://a.example"),
    ]:
        assert _preflight(answer, origin)["access-control-allow-origin"] == expected


def test_one_origin_needs_no_template() -> None:
    answer = mock_answer(_integration(None))
    assert answer.echoed_origins == frozenset()
    assert _preflight(answer, "https://b.example")["access-control-allow-origin"] == "https://a.example"


@pytest.mark.parametrize(
    "template",
    [
        _cdk_template("https://b.example").replace("Access-Control-Allow-Origin", "Access-Control-Allow-Methods"),
        _cdk_template("https://b.example").replace('== "https://b', '!= "https://b'),
        _cdk_template("https://b.example", "https://c.example").replace(" || ", " && "),
        _cdk_template("https://b.example") + "\n#set($context.responseOverride.status = 200)",
        '{"message": "hello"}',
    ],
)
def test_any_other_template_is_refused_rather_than_answered_differently(template: str) -> None:
    with pytest.raises(TemplateError):
        mock_answer(_integration({"application/json": template}))
