"""REST API (REST, not HTTP API, so that WAF can attach): routes -> Lambda functions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from prakerja_infra.nag import acknowledge
from prakerja_infra.stage import StageConfig, log_retention, removal_policy


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


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        user_pool: cognito.IUserPool,
        routes: list[Route],
    ) -> None:
        super().__init__(scope, construct_id)
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=log_retention(stage), removal_policy=removal_policy(stage)
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
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                # Request/response bodies carry personal data: never log them.
                data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
        )
        authorizer = apigw.CognitoUserPoolsAuthorizer(self, "Authorizer", cognito_user_pools=[user_pool])

        for route in routes:
            resource = self.rest_api.root.resource_for_path(route.path)
            integration = apigw.LambdaIntegration(route.function, proxy=True)
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
                    acknowledge(method, rule, reason)

        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG2",
            "Bodies are validated in the handlers with pydantic so that every error is an RFC 9457 "
            "problem with a stable code; API Gateway's validator answers in its own format.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level CloudWatch role uses the AWS managed push-to-logs policy, "
            "which is what that role is for.",
        )

        self._problem_responses()
        self._web_acl(stage)

    def _problem_responses(self) -> None:
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
            body: dict[str, str | int] = {
                "type": "https://prakerja.example/problems/" + code.lower().replace("_", "-"),
                "title": title,
                "code": code,
                "detail": detail,
                "instance": "$context.requestId",
            }
            # The catch-all responses keep API Gateway's own status, which a template cannot
            # print; RFC 9457 makes the member advisory, so it is left out there.
            if status is not None:
                body["status"] = int(status)
            self.rest_api.add_gateway_response(
                f"Problem{response_type.response_type}",
                type=response_type,
                status_code=status,
                response_headers={"Content-Type": "'application/problem+json'"},
                templates={"application/json": json.dumps(body)},
            )

    def _web_acl(self, stage: StageConfig) -> None:
        """AWS managed common rules and a per-IP rate limit in front of the stage."""

        def managed(name: str, priority: int) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS",
                        name=name,
                    )
                ),
                visibility_config=_visibility(name),
            )

        rate_rule = wafv2.CfnWebACL.RuleProperty(
            name="PerIpRateLimit",
            priority=0,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=stage.waf_requests_per_ip_per_5min,
                    aggregate_key_type="IP",
                )
            ),
            visibility_config=_visibility("PerIpRateLimit"),
        )
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"prakerja-{stage.name}"),
            rules=[
                rate_rule,
                managed("AWSManagedRulesCommonRuleSet", 1),
                managed("AWSManagedRulesKnownBadInputsRuleSet", 2),
            ],
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


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True,
        metric_name=name,
        sampled_requests_enabled=True,
    )
