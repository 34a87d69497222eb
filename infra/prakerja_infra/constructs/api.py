"""REST API (REST, not HTTP API, so that WAF can attach): routes -> Lambda functions."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from enum import Enum

from aws_cdk import Annotations, Aws, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from prakerja.config import CORS_EXPOSED_HEADERS, CORS_ORIGINS_VARIABLE
from prakerja_infra.nag import acknowledge, resource_of
from prakerja_infra.stage import RouteLimit, StageConfig, log_retention, removal_policy

# The API contract's body limit (shared API.md); the handlers refuse larger bodies with the
# same 413 (prakerja.http.app.MAX_BODY_BYTES), WAF refuses them before they cost an invocation.
MAX_BODY_BYTES = 64 * 1024

# The routes with their own, lower limits (StageConfig.route_limits), by the name of the limit.
LIMITED_ROUTES = {
    # Answers NIK_ALREADY_REGISTERED: a way to learn whether a NIK is registered.
    "registration": ("POST", "/v1/applicants"),
    # Scores each attempt: a way to search the answers.
    "assessment": ("POST", "/v1/applicants/me/assessment"),
    # An account inquiry at the payment partner: a way to learn whether a number is an account,
    # and whose; each call also costs a partner request.
    "payout_account": ("PUT", "/v1/applicants/me/payout-account"),
    # Looks a voucher code up: a way to search codes (signed, so only with a partner's secret).
    "redemption": ("POST", "/v1/partner/redemptions"),
    # Public, paginated, each page read from S3: the costliest read anyone may make.
    "draw": ("GET", "/v1/waves/{wave_id}/draw"),
}


# One JSON line per request, with who called: the Cognito account (`sub`) of an applicant or an
# ops user, so that an ops call is attributable to a person here as well as in the audit log.
# Never a body, a query string or a header that could carry personal data.
_ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(
    json.dumps(
        {
            "requestId": apigw.AccessLogField.context_request_id(),
            "ip": apigw.AccessLogField.context_identity_source_ip(),
            "caller": apigw.AccessLogField.context_authorizer_claims("sub"),
            "requestTime": apigw.AccessLogField.context_request_time(),
            "httpMethod": apigw.AccessLogField.context_http_method(),
            "resourcePath": apigw.AccessLogField.context_resource_path(),
            "status": apigw.AccessLogField.context_status(),
            "protocol": apigw.AccessLogField.context_protocol(),
            "responseLength": apigw.AccessLogField.context_response_length(),
        }
    )
)


class Access(Enum):
    PUBLIC = "public"  # no credentials: health, the OpenAPI document, the published draw
    USER = "user"  # a Cognito JWT; ops routes additionally check the `ops` group in the handler
    PARTNER = "partner"  # no JWT: the handler checks the partner's HMAC signature of the raw body


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: lambda_.IFunction
    access: Access


def _proxy_to(target: lambda_.IFunction) -> apigw.Integration:
    """A Lambda proxy integration, without the per-method permission LambdaIntegration adds."""
    return apigw.Integration(
        type=apigw.IntegrationType.AWS_PROXY,
        integration_http_method="POST",
        uri=f"arn:{Aws.PARTITION}:apigateway:{Aws.REGION}:lambda:path/2015-03-31/functions/{target.function_arn}/invocations",
    )


def _function_behind(target: lambda_.IFunction) -> lambda_.IFunction:
    """The function a route invokes, through its alias if it has one."""
    return target.version.lambda_ if isinstance(target, lambda_.Alias) else target


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        logs_key: kms.IKey,
        user_pool: cognito.IUserPool,
        routes: list[Route],
    ) -> None:
        super().__init__(scope, construct_id)
        declared = {(route.method, route.path) for route in routes}
        missing = [route for route in LIMITED_ROUTES.values() if route not in declared]
        assert not missing, f"limited routes that the API does not have: {missing}"
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(stage),
            removal_policy=removal_policy(stage),
            encryption_key=logs_key,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"prakerja-{stage.name}",
            description="Kartu Prakerja-like program API (see shared API.md)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=stage.name,
                throttling_rate_limit=stage.api_rate_limit,
                throttling_burst_limit=stage.api_burst_limit,
                method_options=_method_throttles(stage),
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                # Request/response bodies carry personal data: never log them.
                data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=_ACCESS_LOG_FORMAT,
            ),
        )
        authorizer = apigw.CognitoUserPoolsAuthorizer(self, "Authorizer", cognito_user_pools=[user_pool])

        preflighted: set[str] = set()
        invoked: dict[str, lambda_.IFunction] = {}  # by construct path: each function once
        for route in routes:
            resource = self.rest_api.root.resource_for_path(route.path)
            if route.path not in preflighted:
                # The browser's preflight, answered by API Gateway itself (a mock integration):
                # no credentials, no function invoked.
                preflight = add_preflight(resource, stage)
                for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                    acknowledge(
                        resource_of(preflight),
                        rule,
                        "A CORS preflight (OPTIONS) carries no credentials by the Fetch standard; API Gateway "
                        "answers it with the allowed origins, methods and headers, and invokes nothing.",
                    )
                preflighted.add(route.path)
            function = _function_behind(route.function)
            if route.access is not Access.PARTNER and isinstance(function, lambda_.Function):
                # The functions answer the allowed origins themselves (prakerja.http.app); partners
                # call from servers, not browsers.
                function.add_environment(CORS_ORIGINS_VARIABLE, ",".join(stage.web_origins))
            integration = _proxy_to(route.function)
            invoked[route.function.node.path] = route.function
            if route.access is Access.USER:
                resource.add_method(
                    route.method,
                    integration,
                    authorizer=authorizer,
                    authorization_type=apigw.AuthorizationType.COGNITO,
                )
            else:
                method = resource.add_method(route.method, integration)
                reason = (
                    "Partner calls are signed (HMAC-SHA256 of timestamp and raw body with the partner's "
                    "secret); only the handler sees the raw body to check it."
                    if route.access is Access.PARTNER
                    else "Public by the API contract (health, OpenAPI, the published draw)."
                )
                for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                    acknowledge(resource_of(method), rule, reason)

        acknowledge(
            resource_of(self.rest_api),
            "AwsSolutions-APIG2",
            "Bodies are validated in the handlers with pydantic so that every error is an RFC 9457 "
            "problem with a stable code; API Gateway's validator answers in its own format, and a "
            "validator without models would only silence the check.",
        )
        acknowledge(
            self.rest_api.node.find_child("CloudWatchRole"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level CloudWatch role uses the AWS managed push-to-logs policy, "
            "which is what that role is for.",
        )

        # One permission per function, for this API's stage (any of its methods): CDK's integration
        # would add one per method (and one more for the console's "Test" button, not wanted), 38
        # resources of CloudFormation's 500 a stack for what one per function says as well.
        for target in invoked.values():
            target.add_permission(
                "InvokedByApi",
                principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                source_arn=self.rest_api.arn_for_execute_api(method="*", path="/*", stage=stage.name),
            )

        self._problem_responses(stage)
        placeholders = [origin for origin in stage.web_origins if origin.endswith(".example")]
        if placeholders:
            Annotations.of(self).add_warning_v2(
                "prakerja:placeholder-origins",
                f"{stage.name}: the web origins {placeholders} are placeholders: set web_origins in "
                "infra/prakerja_infra/stage.py to the web apps' real origins (docs/deploy.md, step 3).",
            )
        self._web_acl(stage)

    def _problem_responses(self, stage: StageConfig) -> None:
        """Errors API Gateway answers itself (authorizer, unknown route, throttling, an
        integration failure) in the same RFC 9457 shape as the handlers' problems."""
        responses = [
            (
                apigw.ResponseType.UNAUTHORIZED,
                "401",
                "UNAUTHORIZED",
                "Unauthorized",
                "A valid bearer token is required.",
            ),
            (apigw.ResponseType.ACCESS_DENIED, "403", "FORBIDDEN", "Forbidden", "This call is not allowed."),
            # API Gateway reports unknown routes as a missing token; clients see a plain 404.
            (
                apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
                "404",
                "NOT_FOUND",
                "Not found",
                "No such resource.",
            ),
            (
                apigw.ResponseType.THROTTLED,
                "429",
                "THROTTLED",
                "Too many requests",
                "Slow down and retry later.",
            ),
            (
                apigw.ResponseType.QUOTA_EXCEEDED,
                "429",
                "THROTTLED",
                "Too many requests",
                "Slow down and retry later.",
            ),
            (
                apigw.ResponseType.WAF_FILTERED,
                "403",
                "REQUEST_BLOCKED",
                "Forbidden",
                "The request was blocked.",
            ),
            (
                apigw.ResponseType.REQUEST_TOO_LARGE,
                "413",
                "PAYLOAD_TOO_LARGE",
                "Payload too large",
                "The body may be at most 65536 bytes.",
            ),
            (
                apigw.ResponseType.DEFAULT_4_XX,
                None,
                "REQUEST_REJECTED",
                "Request rejected",
                "The request was rejected.",
            ),
            (
                apigw.ResponseType.DEFAULT_5_XX,
                None,
                "SERVICE_UNAVAILABLE",
                "Service unavailable",
                "The service could not answer; try again.",
            ),
        ]
        for response_type, status, code, title, detail in responses:
            # The catch-all responses keep API Gateway's own status, which a template cannot
            # print; RFC 9457 makes the member advisory, so it is left out there.
            body = _problem(code, title, detail, int(status) if status is not None else None)
            body["instance"] = "$context.requestId"
            self.rest_api.add_gateway_response(
                f"Problem{response_type.response_type}",
                type=response_type,
                status_code=status,
                response_headers={"Content-Type": "'application/problem+json'", **gateway_cors_headers(stage)},
                templates={"application/json": json.dumps(body)},
            )

    def _web_acl(self, stage: StageConfig) -> None:
        """In front of the stage, in this order: known bad addresses, per-address rate limits
        (the stage's, then each limited route's lower one), the body limit, the AWS managed
        common and known-bad-inputs rules. Rate limits answer 429 THROTTLED and the body limit
        413 PAYLOAD_TOO_LARGE, as the API contract says; the other blocks answer API Gateway's
        403 REQUEST_BLOCKED (the WAF_FILTERED gateway response)."""
        priority = itertools.count()

        def managed(name: str, *, counted: tuple[str, ...] = ()) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name,
                priority=next(priority),
                # None, not Count: the group's own actions (block) apply.
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS",
                        name=name,
                        rule_action_overrides=[
                            wafv2.CfnWebACL.RuleActionOverrideProperty(
                                name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                            )
                            for rule in counted
                        ]
                        or None,
                    )
                ),
                visibility_config=_visibility(name),
            )

        def per_ip(
            name: str, limit: int, scope_down: wafv2.CfnWebACL.StatementProperty | None = None
        ) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name,
                priority=next(priority),
                action=_block_with(429, THROTTLED_BODY),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=limit, aggregate_key_type="IP", scope_down_statement=scope_down
                    )
                ),
                visibility_config=_visibility(name),
            )

        rules = [
            # Addresses Amazon's threat intelligence knows for bots, scanning and DDoS. Not the
            # anonymous-IP group: its hosting-provider list would block partners' servers.
            managed("AWSManagedRulesAmazonIpReputationList"),
            per_ip("PerIpRateLimit", stage.waf_requests_per_ip_per_5min),
            *(
                per_ip(f"PerIp{_camel(name)}", limit.per_ip_per_5min, _route_statement(*LIMITED_ROUTES[name]))
                for name, limit in stage.route_limits
            ),
            wafv2.CfnWebACL.RuleProperty(
                name="BodyOver64KiB",
                priority=next(priority),
                action=_block_with(413, PAYLOAD_TOO_LARGE_BODY),
                statement=wafv2.CfnWebACL.StatementProperty(
                    size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
                        # API Gateway forwards at most the association's 64 KiB of a body (below);
                        # a longer body is oversize and matches without being measured. A body of
                        # 65,536 bytes or fewer is seen whole and is never larger than the limit.
                        field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                            body=wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")
                        ),
                        comparison_operator="GT",
                        size=MAX_BODY_BYTES,
                        text_transformations=[_NO_TRANSFORMATION],
                    )
                ),
                visibility_config=_visibility("BodyOver64KiB"),
            ),
            # SizeRestrictions_BODY blocks bodies over 8 KiB, which the API accepts (an exclusion
            # list of a few thousand NIKs): it only counts; BodyOver64KiB keeps the contract's limit.
            managed("AWSManagedRulesCommonRuleSet", counted=("SizeRestrictions_BODY",)),
            managed("AWSManagedRulesKnownBadInputsRuleSet"),
        ]
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"prakerja-{stage.name}"),
            rules=rules,
            custom_response_bodies={
                # WAF may only say application/json; the body is the same problem the API answers.
                THROTTLED_BODY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON",
                    content=json.dumps(_problem("THROTTLED", "Too many requests", "Slow down and retry later.", 429)),
                ),
                PAYLOAD_TOO_LARGE_BODY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON",
                    content=json.dumps(
                        _problem(
                            "PAYLOAD_TOO_LARGE",
                            "Payload too large",
                            f"The body may be at most {MAX_BODY_BYTES} bytes.",
                            413,
                        )
                    ),
                ),
            },
            # API Gateway forwards 16 KiB of a body by default; 64 KiB (the most WAF takes, billed
            # above 16 KiB) lets the body rule see every body the API accepts in full.
            association_config=wafv2.CfnWebACL.AssociationConfigProperty(
                request_body={
                    "API_GATEWAY": wafv2.CfnWebACL.RequestBodyAssociatedResourceTypeConfigProperty(
                        default_size_inspection_limit="KB_64"
                    )
                }
            ),
        )
        stage_arn = Stack.of(self).format_arn(
            service="apigateway",
            account="",
            resource=f"/restapis/{self.rest_api.rest_api_id}/stages/{self.rest_api.deployment_stage.stage_name}",
        )
        association = wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation", resource_arn=stage_arn, web_acl_arn=acl.attr_arn
        )
        association.node.add_dependency(self.rest_api.deployment_stage)


# What the web apps send (API.md): the bearer token, an idempotency key, JSON bodies. What they
# may read, and the functions' variable with the stage's origins, are prakerja.config's.
CORS_ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key")
CORS_METHODS = ("GET", "POST", "PUT", "OPTIONS")
CORS_MAX_AGE_SECONDS = 600


def add_preflight(resource: apigw.IResource, stage: StageConfig) -> apigw.Method:
    """The stage's browser origins (StageConfig.web_origins). With several, API Gateway answers the
    first by default and echoes another when it is the request's Origin (CDK's template)."""
    return resource.add_cors_preflight(
        allow_origins=list(stage.web_origins),
        allow_methods=list(CORS_METHODS),
        allow_headers=list(CORS_ALLOWED_HEADERS),
        expose_headers=list(CORS_EXPOSED_HEADERS),
        max_age=Duration.seconds(CORS_MAX_AGE_SECONDS),
        status_code=204,
    )


def gateway_cors_headers(stage: StageConfig) -> dict[str, str]:
    """On API Gateway's own answers (401, 403, 404, 413, 429, 5xx): a gateway response cannot
    choose among origins, so it names the stage's primary one; the functions' answers name the
    caller's origin when it is allowed (prakerja.http.app)."""
    return {
        "Access-Control-Allow-Origin": f"'{stage.web_origins[0]}'",
        "Access-Control-Expose-Headers": f"'{','.join(CORS_EXPOSED_HEADERS)}'",
        "Vary": "'Origin'",
    }


THROTTLED_BODY = "throttled"
PAYLOAD_TOO_LARGE_BODY = "payload-too-large"
_NO_TRANSFORMATION = wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")


def _problem(code: str, title: str, detail: str, status: int | None) -> dict[str, str | int]:
    """An RFC 9457 problem as the handlers answer it (prakerja.http.problems)."""
    body: dict[str, str | int] = {
        "type": "https://prakerja.example/problems/" + code.lower().replace("_", "-"),
        "title": title,
        "code": code,
        "detail": detail,
    }
    if status is not None:
        body["status"] = status
    return body


def _method_throttles(stage: StageConfig) -> dict[str, apigw.MethodDeploymentOptions]:
    """The limited routes' own throttles, keyed ``<path>/<METHOD>``. An override replaces the
    stage's settings for its method, so logging and metrics are repeated as the stage has them."""
    options = {}
    for name, limit in stage.route_limits:
        method, path = LIMITED_ROUTES[name]
        options[f"{path}/{method}"] = _throttle(limit)
    return options


def _throttle(limit: RouteLimit) -> apigw.MethodDeploymentOptions:
    return apigw.MethodDeploymentOptions(
        throttling_rate_limit=limit.rate,
        throttling_burst_limit=limit.burst,
        metrics_enabled=True,
        logging_level=apigw.MethodLoggingLevel.ERROR,
        data_trace_enabled=False,  # bodies carry personal data
    )


def _route_statement(method: str, path: str) -> wafv2.CfnWebACL.StatementProperty:
    """Requests for one route: its method, and its path (a parameter is any one segment) after
    an optional first segment, the stage's name on the execute-api address. The path is
    URL-decoded and normalized first, so that /v1//applicants or %61 spellings count too."""
    segments = ["[^/]+" if part.startswith("{") else re.escape(part) for part in path.strip("/").split("/")]
    pattern = "^(/[^/]+)?/" + "/".join(segments) + "/?$"
    return wafv2.CfnWebACL.StatementProperty(
        and_statement=wafv2.CfnWebACL.AndStatementProperty(
            statements=[
                wafv2.CfnWebACL.StatementProperty(
                    byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                        field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(method={}),
                        positional_constraint="EXACTLY",
                        search_string=method,
                        text_transformations=[_NO_TRANSFORMATION],
                    )
                ),
                wafv2.CfnWebACL.StatementProperty(
                    regex_match_statement=wafv2.CfnWebACL.RegexMatchStatementProperty(
                        field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                        regex_string=pattern,
                        text_transformations=[
                            wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="URL_DECODE"),
                            wafv2.CfnWebACL.TextTransformationProperty(priority=1, type="NORMALIZE_PATH"),
                        ],
                    )
                ),
            ]
        )
    )


def _block_with(status: int, body_key: str) -> wafv2.CfnWebACL.RuleActionProperty:
    return wafv2.CfnWebACL.RuleActionProperty(
        block=wafv2.CfnWebACL.BlockActionProperty(
            custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                response_code=status, custom_response_body_key=body_key
            )
        )
    )


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True,
        metric_name=name,
        sampled_requests_enabled=True,
    )
