"""Abuse limits, on every stage's template: the routes worth probing or costly to answer have
their own API Gateway throttle and WAF per-address limit, below the stage's; WAF refuses known
bad addresses and bodies over the contract's 64 KiB, and never a body the API accepts."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from prakerja.http.app import MAX_BODY_BYTES as HANDLER_MAX_BODY_BYTES
from prakerja_infra.constructs.api import LIMITED_ROUTES, MAX_BODY_BYTES
from prakerja_infra.stage import RouteLimit, StageConfig, stage_config
from tests.infra.cfn import CfnTemplate, one

STAGES = ["dev", "staging", "prod"]
# The routes the security review named; more may be limited, none of these may go unlimited.
REQUIRED = {
    ("POST", "/v1/applicants"),  # NIK_ALREADY_REGISTERED
    ("PUT", "/v1/applicants/me/payout-account"),  # an account inquiry at the payment partner
    ("POST", "/v1/applicants/me/assessment"),  # answers could be searched
    ("POST", "/v1/partner/redemptions"),  # voucher code lookup
    ("GET", "/v1/waves/{wave_id}/draw"),  # public, paginated, heavy
}
# The 2020 launch peak: ~80,000 registrations a minute.
LAUNCH_PEAK_PER_SECOND = 80_000 // 60


@pytest.fixture(params=STAGES)
def stage(request: pytest.FixtureRequest) -> tuple[StageConfig, CfnTemplate]:
    template: CfnTemplate = request.getfixturevalue(f"{request.param}_template")
    return stage_config(request.param), template


def _method_settings(template: CfnTemplate) -> dict[tuple[str, str], dict[str, Any]]:
    """The stage's method settings by (HTTP method, resource path). A resource path is written
    "/" and then the path with each "/" escaped as "~1"; "/*" is every path."""

    def path(written: str) -> str:
        return written if written == "/*" else written.removeprefix("/").replace("~1", "/")

    _, resource = one(template, "AWS::ApiGateway::Stage", "ApiRestApiDeploymentStage")
    return {(s["HttpMethod"], path(s["ResourcePath"])): s for s in resource["Properties"]["MethodSettings"]}


def _acl(template: CfnTemplate) -> dict[str, Any]:
    properties: dict[str, Any] = one(template, "AWS::WAFv2::WebACL", "ApiWebAcl")[1]["Properties"]
    return properties


def _rules(template: CfnTemplate) -> dict[str, dict[str, Any]]:
    return {rule["Name"]: rule for rule in _acl(template)["Rules"]}


def _limits(config: StageConfig) -> dict[tuple[str, str], RouteLimit]:
    return {LIMITED_ROUTES[name]: limit for name, limit in config.route_limits}


def test_the_reviewed_routes_are_limited_on_every_stage() -> None:
    assert set(LIMITED_ROUTES.values()) >= REQUIRED
    for name in STAGES:
        assert set(_limits(stage_config(name))) == set(LIMITED_ROUTES.values()), name


def test_each_limited_route_has_its_own_throttle_below_the_stages(stage: tuple[StageConfig, CfnTemplate]) -> None:
    config, template = stage
    settings = _method_settings(template)
    default = settings[("*", "/*")]
    for route, limit in _limits(config).items():
        setting = settings[route]
        assert (setting["ThrottlingRateLimit"], setting["ThrottlingBurstLimit"]) == (limit.rate, limit.burst), route
        assert 0 < setting["ThrottlingRateLimit"] <= default["ThrottlingRateLimit"], route
        assert setting["ThrottlingRateLimit"] <= setting["ThrottlingBurstLimit"] <= default["ThrottlingBurstLimit"]
        # An override replaces the stage's settings for its method: they must not be lost.
        for key in ("LoggingLevel", "MetricsEnabled", "DataTraceEnabled"):
            assert setting[key] == default[key], (route, key)
    assert set(settings) == {("*", "/*"), *_limits(config)}


def test_each_throttled_path_is_a_method_of_the_api(stage: tuple[StageConfig, CfnTemplate]) -> None:
    """A method setting for a path the API does not have would throttle nothing, silently."""
    from tests.infra.test_api import _routes

    _, template = stage
    routes = set(_routes(template))
    for route in _method_settings(template):
        assert route == ("*", "/*") or route in routes, route


def test_registration_throttle_takes_the_launch_peak() -> None:
    assert stage_config("prod").route_limits.registration.rate >= LAUNCH_PEAK_PER_SECOND * 1.2


def test_staging_rehearses_with_prods_route_throttles() -> None:
    """The same 429s as prod; only the per-address limits differ (a few load generators)."""
    prod, staging = _limits(stage_config("prod")), _limits(stage_config("staging"))
    for route, limit in prod.items():
        assert (staging[route].rate, staging[route].burst) == (limit.rate, limit.burst), route


def _scope(rule: dict[str, Any]) -> tuple[str, str]:
    """The HTTP method and path pattern a scoped-down rate rule counts."""
    statements = rule["Statement"]["RateBasedStatement"]["ScopeDownStatement"]["AndStatement"]["Statements"]
    (method,) = [s["ByteMatchStatement"] for s in statements if "ByteMatchStatement" in s]
    (path,) = [s["RegexMatchStatement"] for s in statements if "RegexMatchStatement" in s]
    assert method["FieldToMatch"] == {"Method": {}} and method["PositionalConstraint"] == "EXACTLY"
    assert path["FieldToMatch"] == {"UriPath": {}}
    # Decoded and normalized first: %61pplicants or //v1 must not slip past the count.
    assert [t["Type"] for t in sorted(path["TextTransformations"], key=lambda t: t["Priority"])] == [
        "URL_DECODE",
        "NORMALIZE_PATH",
    ]
    return method["SearchString"], path["RegexString"]


def _throttled(acl: dict[str, Any], rule: dict[str, Any]) -> None:
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    body = json.loads(acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]["Content"])
    assert (body["code"], body["status"]) == ("THROTTLED", 429)


def test_each_limited_route_has_a_lower_per_address_limit(stage: tuple[StageConfig, CfnTemplate]) -> None:
    config, template = stage
    acl, rules = _acl(template), _rules(template)
    general = rules["PerIpRateLimit"]
    assert general["Statement"]["RateBasedStatement"]["Limit"] == config.waf_requests_per_ip_per_5min
    _throttled(acl, general)
    scoped = {_scope(rule): rule for rule in rules.values() if "ScopeDownStatement" in str(rule["Statement"])}
    assert len(scoped) == len(LIMITED_ROUTES)
    for (method, path), limit in _limits(config).items():
        (rule,) = [r for (m, pattern), r in scoped.items() if m == method and re.search(pattern, path)]
        statement = rule["Statement"]["RateBasedStatement"]
        assert statement["AggregateKeyType"] == "IP"
        assert statement["Limit"] == limit.per_ip_per_5min < config.waf_requests_per_ip_per_5min
        _throttled(acl, rule)


# Paths as WAF sees them (the execute-api address starts with the stage's name) and whether each
# limited route's rule counts them; parameters are one segment.
PATHS = {
    ("POST", "/v1/applicants"): (
        ["/v1/applicants", "/prod/v1/applicants", "/v1/applicants/"],
        ["/v1/applicants/me", "/v1/applicants/me/assessment", "/v1/applicantsx", "/a/b/v1/applicants"],
    ),
    ("POST", "/v1/applicants/me/assessment"): (
        ["/v1/applicants/me/assessment", "/dev/v1/applicants/me/assessment"],
        ["/v1/assessment", "/v1/applicants/me"],
    ),
    ("PUT", "/v1/applicants/me/payout-account"): (
        ["/v1/applicants/me/payout-account", "/staging/v1/applicants/me/payout-account/"],
        ["/v1/applicants/me/payouts", "/v1/applicants/me/payout-accountx"],
    ),
    ("POST", "/v1/partner/redemptions"): (
        ["/v1/partner/redemptions", "/prod/v1/partner/redemptions"],
        ["/v1/partner/completions", "/v1/partner/redemptions/x"],
    ),
    ("GET", "/v1/waves/{wave_id}/draw"): (
        ["/v1/waves/w-2026-01/draw", "/prod/v1/waves/abc/draw"],
        ["/v1/waves", "/v1/waves/a/b/draw", "/v1/waves//draw", "/v1/waves/abc/join"],
    ),
}


@pytest.mark.parametrize("route", sorted(PATHS))
def test_each_scoped_rule_counts_its_route_and_no_other(dev_template: CfnTemplate, route: tuple[str, str]) -> None:
    """WAF's regular expressions are PCRE; these patterns use nothing Python's re reads otherwise."""
    scopes = [_scope(rule) for rule in _rules(dev_template).values() if "ScopeDownStatement" in str(rule["Statement"])]
    method, _ = route
    counted, not_counted = PATHS[route]
    (pattern,) = [p for m, p in scopes if m == method and all(re.search(p, path) for path in counted)]
    for path in not_counted:
        assert not re.search(pattern, path), (pattern, path)


def test_rate_rules_count_before_anything_else_blocks(stage: tuple[StageConfig, CfnTemplate]) -> None:
    """Only known bad addresses are refused before counting: an oversize or malicious flood still
    counts towards its source's limit."""
    _, template = stage
    order = [rule["Name"] for rule in sorted(_acl(template)["Rules"], key=lambda rule: rule["Priority"])]
    assert order[0] == "AWSManagedRulesAmazonIpReputationList"
    rate_rules = [name for name in order if name.startswith("PerIp")]
    assert order[1 : 1 + len(rate_rules)] == rate_rules
    assert order.index("BodyOver64KiB") < order.index("AWSManagedRulesCommonRuleSet")


def test_known_bad_addresses_are_blocked(stage: tuple[StageConfig, CfnTemplate]) -> None:
    _, template = stage
    rule = _rules(template)["AWSManagedRulesAmazonIpReputationList"]
    assert rule["OverrideAction"] == {"None": {}}
    assert rule["Statement"]["ManagedRuleGroupStatement"]["VendorName"] == "AWS"
    assert "RuleActionOverrides" not in rule["Statement"]["ManagedRuleGroupStatement"]


def test_the_body_limit_is_the_contracts_and_the_handlers() -> None:
    assert MAX_BODY_BYTES == HANDLER_MAX_BODY_BYTES == 64 * 1024


def _body_rule_matches(statement: dict[str, Any], inspection_limit: int, body_bytes: int) -> bool:
    """How WAF evaluates a size constraint on the body: a body longer than what the protected
    resource forwards is oversize and handled as configured; any other is measured whole."""
    if body_bytes > inspection_limit:
        return {"MATCH": True, "NO_MATCH": False}[statement["FieldToMatch"]["Body"]["OversizeHandling"]]
    assert statement["ComparisonOperator"] == "GT"
    return body_bytes > int(statement["Size"])


def test_bodies_over_64_kib_are_refused_with_413_and_none_the_api_accepts(
    stage: tuple[StageConfig, CfnTemplate],
) -> None:
    _, template = stage
    acl = _acl(template)
    # API Gateway forwards 16 KiB of a body by default; the web ACL asks for 64 KiB (65,536 bytes).
    assert acl["AssociationConfig"]["RequestBody"] == {"API_GATEWAY": {"DefaultSizeInspectionLimit": "KB_64"}}
    inspected = 64 * 1024
    rule = _rules(template)["BodyOver64KiB"]
    statement = rule["Statement"]["SizeConstraintStatement"]
    assert statement["Size"] == MAX_BODY_BYTES
    for body_bytes in (0, 8 * 1024 + 1, 16 * 1024 + 1, MAX_BODY_BYTES - 1, MAX_BODY_BYTES):
        assert not _body_rule_matches(statement, inspected, body_bytes), body_bytes
    for body_bytes in (MAX_BODY_BYTES + 1, 10 * 1024 * 1024):
        assert _body_rule_matches(statement, inspected, body_bytes), body_bytes
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 413
    body = json.loads(acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]["Content"])
    assert (body["code"], body["status"]) == ("PAYLOAD_TOO_LARGE", 413)


def test_the_common_rule_sets_8_kib_body_limit_only_counts(stage: tuple[StageConfig, CfnTemplate]) -> None:
    """The API accepts bodies up to 64 KiB; the common rule set's SizeRestrictions_BODY would
    block every body over 8 KiB. Every other rule of the group still blocks."""
    _, template = stage
    rule = _rules(template)["AWSManagedRulesCommonRuleSet"]
    assert rule["OverrideAction"] == {"None": {}}
    overrides = rule["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]
    assert overrides == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]


def test_every_custom_response_is_a_problem_that_a_rule_uses(stage: tuple[StageConfig, CfnTemplate]) -> None:
    _, template = stage
    acl = _acl(template)
    used = {
        rule["Action"]["Block"]["CustomResponse"]["CustomResponseBodyKey"]
        for rule in acl["Rules"]
        if "Block" in rule.get("Action", {})
    }
    assert used == set(acl["CustomResponseBodies"])
    for key, body in acl["CustomResponseBodies"].items():
        assert body["ContentType"] == "APPLICATION_JSON", key
        problem = json.loads(body["Content"])
        assert {"type", "title", "status", "code", "detail"} <= set(problem), key
