"""REST API: the stage's throttling and logging, who may call which route, the problem responses
API Gateway answers itself, and the WAF in front of the stage."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from prakerja_infra.constructs.api import Access
from prakerja_infra.routes import FUNCTION_EXTENSION, OPENAPI_DOCUMENT, access_of, api_routes
from prakerja_infra.stage import stage_config
from tests.infra.cfn import (
    CfnTemplate,
    Resource,
    function_id,
    invoked_functions,
    one,
    referenced_ids,
    resolve_string,
    resources,
)

PUBLIC_ROUTES = {
    ("GET", "/v1/health"),
    ("GET", "/v1/openapi.json"),
    ("GET", "/v1/docs"),
    ("GET", "/v1/waves/{wave_id}/draw"),  # anyone can check a draw
}
# Routes of the API contract that need a signed-in user (a sample; the rule is checked on all methods).
USER_ROUTES = {
    ("POST", "/v1/applicants"),
    ("GET", "/v1/applicants/me"),
    ("POST", "/v1/applicants/me/assessment"),
    ("POST", "/v1/ops/exclusion-lists/{source}"),
    ("POST", "/v1/ops/waves/{wave_id}/close"),
    ("GET", "/v1/trainings"),
    ("POST", "/v1/purchases"),
    ("POST", "/v1/purchases/{purchase_id}/review"),
    ("POST", "/v1/ops/trainings"),
    ("GET", "/v1/ops/ledger"),
    ("GET", "/v1/applicants/me/payout-account"),
    ("PUT", "/v1/applicants/me/payout-account"),
    ("GET", "/v1/applicants/me/payouts"),
    ("GET", "/v1/surveys"),
    ("POST", "/v1/surveys/{survey_id}/responses"),
    ("POST", "/v1/ops/payout-runs"),
    ("POST", "/v1/ops/reconciliations"),
    ("GET", "/v1/ops/reconciliations/{provider}/{day}"),
    ("GET", "/v1/ops/waves"),
    ("GET", "/v1/ops/payouts"),
    ("GET", "/v1/ops/payouts/failure-counts"),
}
# Partners send no JWT: they sign each call, and the handler checks the signature of the raw body.
PARTNER_ROUTES = {
    ("POST", "/v1/partner/redemptions"),
    ("POST", "/v1/partner/completions"),
    ("POST", "/v1/partner/payments/{transfer_id}/callback"),  # a payment partner's transfer result
}


def _routes(template: CfnTemplate) -> dict[tuple[str, str], Resource]:
    """Every method by (HTTP method, path), the path rebuilt from the resource tree; the CORS
    preflights (OPTIONS, answered by API Gateway: test_deploy_readiness.py) aside."""
    tree = resources(template, "AWS::ApiGateway::Resource")

    def path(resource_id: dict[str, Any]) -> str:
        if "Fn::GetAtt" in resource_id:
            assert resource_id["Fn::GetAtt"][1] == "RootResourceId"
            return ""
        properties = tree[resource_id["Ref"]]["Properties"]
        return f"{path(properties['ParentId'])}/{properties['PathPart']}"

    return {
        (method["Properties"]["HttpMethod"], path(method["Properties"]["ResourceId"]) or "/"): method
        for method in resources(template, "AWS::ApiGateway::Method").values()
        if method["Properties"]["HttpMethod"] != "OPTIONS"
    }


@pytest.fixture(scope="module")
def stage(dev_template: CfnTemplate) -> dict[str, Any]:
    _, resource = one(dev_template, "AWS::ApiGateway::Stage", "ApiRestApiDeploymentStage")
    properties: dict[str, Any] = resource["Properties"]
    return properties


def _catch_all_setting(stage: dict[str, Any]) -> dict[str, Any]:
    settings: list[dict[str, Any]] = stage["MethodSettings"]
    (setting,) = [s for s in settings if s["HttpMethod"] == "*" and s["ResourcePath"] == "/*"]
    return setting


def test_stage_is_throttled_as_configured(stage: dict[str, Any]) -> None:
    setting = _catch_all_setting(stage)
    config = stage_config("dev")
    assert setting["ThrottlingRateLimit"] == config.api_rate_limit > 0
    assert setting["ThrottlingBurstLimit"] == config.api_burst_limit >= config.api_rate_limit


def test_stage_never_logs_bodies(stage: dict[str, Any]) -> None:
    # Request and response bodies carry NIK, names and birth dates.
    assert _catch_all_setting(stage)["DataTraceEnabled"] is False
    for setting in stage["MethodSettings"]:
        assert setting.get("DataTraceEnabled", False) is False, setting


def test_stage_access_logs_name_the_caller_by_account_id_only(dev_template: CfnTemplate, stage: dict[str, Any]) -> None:
    access = stage["AccessLogSetting"]
    (group_id,) = referenced_ids(access["DestinationArn"])
    assert dev_template["Resources"][group_id]["Type"] == "AWS::Logs::LogGroup"
    fields = json.loads(access["Format"])
    assert {"requestId", "status", "resourcePath", "httpMethod"} <= set(fields)
    # Who called (an ops call is attributable to a person): the Cognito account id, a random
    # UUID. The e-mail and the other claims are personal data: not in access logs.
    assert fields["caller"] == "$context.authorizer.claims.sub"
    assert re.findall(r"\$context\.authorizer[.\w]*", access["Format"]) == ["$context.authorizer.claims.sub"]


def test_stage_is_traced(stage: dict[str, Any]) -> None:
    assert stage["TracingEnabled"] is True


def test_every_method_but_the_public_ones_requires_a_cognito_user(dev_template: CfnTemplate) -> None:
    routes = _routes(dev_template)
    assert set(routes) >= PUBLIC_ROUTES | USER_ROUTES | PARTNER_ROUTES
    authorizer_id, authorizer = one(dev_template, "AWS::ApiGateway::Authorizer", "ApiAuthorizer")
    pool_id, _ = one(dev_template, "AWS::Cognito::UserPool", "AuthApplicantPool")
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["Properties"]["ProviderARNs"] == [{"Fn::GetAtt": [pool_id, "Arn"]}]
    for route, method in routes.items():
        properties = method["Properties"]
        if route in PUBLIC_ROUTES | PARTNER_ROUTES:
            assert properties["AuthorizationType"] == "NONE", route
        else:
            assert properties["AuthorizationType"] == "COGNITO_USER_POOLS", route
            assert properties["AuthorizerId"] == {"Ref": authorizer_id}, route


def test_routes_without_a_user_reach_only_the_public_and_partner_functions(dev_template: CfnTemplate) -> None:
    """No Cognito user in front of them: the public function, or the partner function that
    checks the signature before any route runs."""
    public_id = function_id(dev_template, "PublicApi")
    partner_id = function_id(dev_template, "PartnerApi")
    routes = _routes(dev_template)
    for route in PARTNER_ROUTES:
        assert invoked_functions(dev_template, routes[route]["Properties"]["Integration"]["Uri"]) == {partner_id}, route
    for route, method in routes.items():
        if method["Properties"]["AuthorizationType"] == "NONE":
            assert route in PUBLIC_ROUTES | PARTNER_ROUTES, route
            target = invoked_functions(dev_template, method["Properties"]["Integration"]["Uri"])
            assert target == {partner_id if route in PARTNER_ROUTES else public_id}, route


def test_every_route_is_a_lambda_proxy(dev_template: CfnTemplate) -> None:
    for route, method in _routes(dev_template).items():
        assert method["Properties"]["Integration"]["Type"] == "AWS_PROXY", route


@pytest.mark.parametrize(
    ("response_type", "status"),
    [
        ("UNAUTHORIZED", 401),
        ("ACCESS_DENIED", 403),
        ("MISSING_AUTHENTICATION_TOKEN", 404),
        ("THROTTLED", 429),
        ("QUOTA_EXCEEDED", 429),
        ("WAF_FILTERED", 403),
    ],
)
def test_gateway_answers_with_a_problem(dev_template: CfnTemplate, response_type: str, status: int) -> None:
    (response,) = [
        r["Properties"]
        for r in resources(dev_template, "AWS::ApiGateway::GatewayResponse").values()
        if r["Properties"]["ResponseType"] == response_type
    ]
    assert response["StatusCode"] == str(status)
    assert response["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
    body = json.loads(response["ResponseTemplates"]["application/json"])
    assert body["code"]
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)


def test_every_gateway_response_is_a_problem(dev_template: CfnTemplate) -> None:
    responses = resources(dev_template, "AWS::ApiGateway::GatewayResponse")
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= {r["Properties"]["ResponseType"] for r in responses.values()}
    for lid, response in responses.items():
        properties = response["Properties"]
        assert properties["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
        assert "code" in json.loads(properties["ResponseTemplates"]["application/json"]), lid


def test_web_acl_applies_the_aws_common_rule_set(dev: Template) -> None:
    dev.has_resource_properties(
        "AWS::WAFv2::WebACL",
        {
            "Scope": "REGIONAL",
            "DefaultAction": {"Allow": {}},
            "Rules": Match.array_with(
                [
                    Match.object_like(
                        {
                            # None, not Count: the managed rules block, they do not only count.
                            "OverrideAction": {"None": {}},
                            "Statement": {
                                "ManagedRuleGroupStatement": Match.object_like(
                                    {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}
                                )
                            },
                        }
                    )
                ]
            ),
        },
    )


def test_web_acl_blocks_above_the_per_ip_rate(dev: Template) -> None:
    dev.has_resource_properties(
        "AWS::WAFv2::WebACL",
        {
            "Rules": Match.array_with(
                [
                    Match.object_like(
                        {
                            "Action": {"Block": {}},
                            "Statement": {
                                "RateBasedStatement": Match.object_like(
                                    {
                                        "AggregateKeyType": "IP",
                                        "Limit": stage_config("dev").waf_requests_per_ip_per_5min,
                                    }
                                )
                            },
                        }
                    )
                ]
            ),
        },
    )


def test_web_acl_rules_have_distinct_priorities(dev_template: CfnTemplate) -> None:
    _, acl = one(dev_template, "AWS::WAFv2::WebACL", "ApiWebAcl")
    priorities = [rule["Priority"] for rule in acl["Properties"]["Rules"]]
    assert len(set(priorities)) == len(priorities)


def test_web_acl_is_associated_with_the_stage(dev_template: CfnTemplate) -> None:
    acl_id, _ = one(dev_template, "AWS::WAFv2::WebACL", "ApiWebAcl")
    api_id, _ = one(dev_template, "AWS::ApiGateway::RestApi", "ApiRestApi")
    stage_id, _ = one(dev_template, "AWS::ApiGateway::Stage", "ApiRestApiDeploymentStage")
    _, association = one(dev_template, "AWS::WAFv2::WebACLAssociation", "ApiWebAclAssociation")
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    arn = resolve_string(association["Properties"]["ResourceArn"])
    assert arn == f"arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}::/restapis/${{{api_id}}}/stages/${{{stage_id}}}"


def test_the_routes_are_the_documents_operations_each_to_the_function_that_serves_it(
    dev_template: CfnTemplate,
) -> None:
    """The routers are the one source of the route list: they make the OpenAPI document, which
    names each operation's function, and the stack builds its routes from that document."""
    document = json.loads(OPENAPI_DOCUMENT.read_text())
    operations = {
        (method.upper(), path): operation
        for path, ops in document["paths"].items()
        for method, operation in ops.items()
    }
    routes = _routes(dev_template)
    assert set(routes) == set(operations)
    for route, method in routes.items():
        served_by = operations[route][FUNCTION_EXTENSION]
        assert invoked_functions(dev_template, method["Properties"]["Integration"]["Uri"]) == {
            function_id(dev_template, served_by)
        }, route
        expected = {Access.PUBLIC: "NONE", Access.PARTNER: "NONE", Access.USER: "COGNITO_USER_POOLS"}
        assert method["Properties"]["AuthorizationType"] == expected[access_of(operations[route], document["security"])]
    # What the paths promise: ops routes to the ops function, partner routes to the partner one.
    for (_, path), operation in operations.items():
        if path.startswith("/v1/ops/"):
            assert operation[FUNCTION_EXTENSION] == "OpsApi", path
        if path.startswith("/v1/partner/"):
            assert operation[FUNCTION_EXTENSION] == "PartnerApi", path


def test_an_operation_served_by_no_function_of_the_stack_fails_the_synth(tmp_path: Path) -> None:
    document = {
        "security": [{"bearer": []}],
        "paths": {"/v1/x": {"get": {FUNCTION_EXTENSION: "Nobody"}}},
    }
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="served by 'Nobody'"):
        api_routes({}, tmp_path / "openapi.json")
    with pytest.raises(ValueError, match="unknown security"):
        access_of({"security": [{"apiKey": []}]}, [])
