"""API Gateway (REST API, Lambda proxy integration) emulated from the template.

Routes come from AWS::ApiGateway::Resource/Method, the Cognito authorizer verifies tokens
against the embedded user pool's keys, events and responses follow the REST API (v1)
proxy format, and errors API Gateway itself produces use the template's GatewayResponses.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from werkzeug.wrappers import Request, Response

from localcloud.lambda_workers import InvokeResult
from localcloud.provision import Resources
from localcloud.template import TemplateError

LOG = logging.getLogger("localcloud.api")
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
_LAMBDA_URI = re.compile(r":lambda:path/2015-03-31/functions/(?P<arn>.+?)/invocations$")

# Response type -> (status, message, x-amzn-ErrorType) as API Gateway answers by default.
_DEFAULT_RESPONSES: dict[str, tuple[int, str, str | None]] = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token", "MissingAuthenticationTokenException"),
    "UNAUTHORIZED": (401, "Unauthorized", "UnauthorizedException"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource", "AccessDeniedException"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long", None),
    "API_CONFIGURATION_ERROR": (500, "Internal server error", None),
    "INTEGRATION_FAILURE": (502, "Internal server error", None),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out", None),
}


@dataclass(frozen=True)
class MockAnswer:
    """What a MOCK integration (a CORS preflight) answers: its first integration response's
    status and header parameters, and the origins its response template echoes (CDK's CORS
    template for several allowed origins, the only template emulated)."""

    status: int
    parameters: dict[str, str] = field(default_factory=dict)
    echoed_origins: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Route:
    method: str
    resource_path: str
    resource_id: str
    authorization: str
    pool_ids: tuple[str, ...] = ()
    identity_header: str = "Authorization"
    function_arn: str | None = None
    integration: dict[str, Any] = field(default_factory=dict)
    mock: MockAnswer | None = None


@dataclass(frozen=True)
class GatewayResponse:
    status: int | None
    templates: dict[str, str]
    parameters: dict[str, str]


class _Node:
    def __init__(self, resource_id: str, path: str) -> None:
        self.resource_id = resource_id
        self.path = path
        self.literal: dict[str, _Node] = {}
        self.param: tuple[str, _Node] | None = None
        self.greedy: tuple[str, _Node] | None = None
        self.methods: dict[str, Route] = {}


class RestApiModel:
    """The routes, stage and gateway responses of the template's REST API(s)."""

    def __init__(self, resources: Resources) -> None:
        apis = resources.of_type("AWS::ApiGateway::RestApi")
        self.api_id = apis[0].ref if apis else "local"
        self.stage = _stage_name(resources)
        self.responses: dict[str, GatewayResponse] = {}
        for res in resources.of_type("AWS::ApiGateway::GatewayResponse"):
            props = res.properties
            status = props.get("StatusCode")
            self.responses[str(props["ResponseType"])] = GatewayResponse(
                int(status) if status else None,
                dict(props.get("ResponseTemplates", {})),
                dict(props.get("ResponseParameters", {})),
            )
        self.root = _Node("", "/")
        self._build(resources, apis)

    def _build(self, resources: Resources, apis: list[Any]) -> None:
        nodes: dict[str, _Node] = {}
        for api in apis:
            nodes[str(api.attributes["RootResourceId"])] = self.root
        parents = {
            r.ref: (str(r.properties.get("ParentId")), str(r.properties.get("PathPart")))
            for r in resources.of_type("AWS::ApiGateway::Resource")
        }

        def node(resource_id: str) -> _Node:
            if resource_id in nodes:
                return nodes[resource_id]
            parent_id, part = parents[resource_id]
            parent = node(parent_id)
            child = _Node(resource_id, parent.path.rstrip("/") + "/" + part)
            if part.startswith("{") and part.endswith("+}"):
                parent.greedy = (part[1:-2], child)
            elif part.startswith("{") and part.endswith("}"):
                parent.param = (part[1:-1], child)
            else:
                parent.literal[part] = child
            nodes[resource_id] = child
            return child

        for resource_id in parents:
            node(resource_id)
        authorizers = {a.ref: a.properties for a in resources.of_type("AWS::ApiGateway::Authorizer")}
        for method in resources.of_type("AWS::ApiGateway::Method"):
            props = method.properties
            target = node(str(props["ResourceId"])) if props.get("ResourceId") in parents else self.root
            authorizer = authorizers.get(str(props.get("AuthorizerId")), {})
            pool_ids = tuple(str(arn).rsplit("/", 1)[-1] for arn in authorizer.get("ProviderARNs", []))
            source = str(authorizer.get("IdentitySource", "method.request.header.Authorization"))
            integration = dict(props.get("Integration", {}))
            uri = _LAMBDA_URI.search(str(integration.get("Uri", "")))
            http_method = str(props["HttpMethod"]).upper()
            target.methods[http_method] = Route(
                method=http_method,
                resource_path=target.path,
                resource_id=target.resource_id,
                authorization=str(props.get("AuthorizationType", "NONE")),
                pool_ids=pool_ids,
                identity_header=source.rsplit(".", 1)[-1],
                function_arn=uri.group("arn") if uri else None,
                integration=integration,
                mock=mock_answer(integration) if integration.get("Type") == "MOCK" else None,
            )

    def routes(self) -> list[Route]:
        found: list[Route] = []
        stack = [self.root]
        while stack:
            current = stack.pop()
            found.extend(current.methods.values())
            stack.extend(current.literal.values())
            stack.extend(pair[1] for pair in (current.param, current.greedy) if pair is not None)
        return sorted(found, key=lambda r: (r.resource_path, r.method))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        segments = [s for s in path.split("/") if s]
        found = _match(self.root, segments, {})
        if found is None:
            return None
        target, params = found
        route = target.methods.get(method) or target.methods.get("ANY")
        return None if route is None else (route, params)


def _match(node: _Node, segments: list[str], params: dict[str, str]) -> tuple[_Node, dict[str, str]] | None:
    # Most specific first, as API Gateway does: literal, then {param}, then {proxy+}.
    if not segments:
        return node, params
    head, rest = segments[0], segments[1:]
    if head in node.literal and (found := _match(node.literal[head], rest, params)):
        return found
    if node.param is not None:
        name, child = node.param
        if found := _match(child, rest, {**params, name: head}):
            return found
    if node.greedy is not None:
        name, child = node.greedy
        return child, {**params, name: "/".join(segments)}
    return None


def _stage_name(resources: Resources) -> str:
    for stage in resources.of_type("AWS::ApiGateway::Stage"):
        return str(stage.properties.get("StageName", "prod"))
    for deployment in resources.of_type("AWS::ApiGateway::Deployment"):
        if "StageName" in deployment.properties:
            return str(deployment.properties["StageName"])
    return "prod"


class Unauthorized(Exception):
    pass


class CognitoVerifier:
    """What a COGNITO_USER_POOLS authorizer checks: signature (RS256), expiry, issuer, token_use."""

    def __init__(self, region: str, clients_by_pool: dict[str, set[str]], jwks: dict[str, Any]) -> None:
        self._region = region
        self._clients_by_pool = clients_by_pool
        self._keys = {key["kid"]: jwt.PyJWK.from_dict(key) for key in jwks["keys"]}

    def issuer(self, pool_id: str) -> str:
        return f"https://cognito-idp.{self._region}.amazonaws.com/{pool_id}"

    def verify(self, header: str | None, pool_ids: Iterable[str]) -> dict[str, Any]:
        if not header:
            raise Unauthorized("no token")
        token = header[7:].strip() if header[:7].lower() == "bearer " else header.strip()
        try:
            key = self._keys.get(str(jwt.get_unverified_header(token).get("kid")))
            if key is None:
                raise Unauthorized("unknown signing key")
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],  # never "none" or HS256 with the public key as secret
                issuer=[self.issuer(p) for p in pool_ids],
                options={"require": ["exp", "iss", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(type(error).__name__) from None
        if claims.get("token_use") != "id":
            raise Unauthorized("not an ID token")
        pool_id = str(claims["iss"]).rsplit("/", 1)[-1]
        clients = self._clients_by_pool.get(pool_id)
        if clients is not None and claims.get("aud") not in clients:
            raise Unauthorized("token of an unknown app client")
        return claims


def claims_as_strings(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as a REST API Cognito authorizer passes them: every value a string."""
    converted: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("exp", "iat") and isinstance(value, int | float):
            converted[name] = datetime.fromtimestamp(value, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
        elif isinstance(value, list):
            converted[name] = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            converted[name] = "true" if value else "false"
        elif isinstance(value, dict):
            converted[name] = json.dumps(value)
        else:
            converted[name] = str(value)
    return converted


Invoker = Callable[[str, dict[str, Any]], InvokeResult]


class ApiGateway:
    """The WSGI application on the API port: the REST API plus the runtime's /_local routes."""

    def __init__(
        self,
        model: RestApiModel,
        verifier: CognitoVerifier,
        invoke: Invoker,
        local_routes: Callable[[Request], Response],
        account_id: str,
    ) -> None:
        self.model = model
        self.verifier = verifier
        self._invoke = invoke
        self._local_routes = local_routes
        self._account_id = account_id

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            if request.path == "/_local" or request.path.startswith("/_local/"):
                response = self._local_routes(request)
            else:
                response = self.handle(request)
        except Exception:  # a runtime bug or a stopping runtime: answer like API Gateway would
            LOG.exception("%s request failed inside the local runtime", request.method)
            context = {"requestId": str(uuid.uuid4()), "path": request.path, "httpMethod": request.method}
            response = self.gateway_response("API_CONFIGURATION_ERROR", request, context)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        context = {"requestId": request_id, "path": request.path, "httpMethod": request.method}
        path = request.path
        found = self.model.match(request.method, path)
        prefix = f"/{self.model.stage}/"
        if found is None and path.startswith(prefix):  # the stage-qualified URL works too
            path = path[len(prefix) - 1 :]
            found = self.model.match(request.method, path)
        if found is None:
            response = self.gateway_response("MISSING_AUTHENTICATION_TOKEN", request, context)
            resource_path = "(no route)"
        else:
            route, params = found
            context["resourcePath"] = resource_path = route.resource_path
            response = self._dispatch(request, route, path, params, request_id, context)
        response.headers["x-amzn-RequestId"] = request_id
        self._log(request.method, resource_path, response, started)
        return response

    def _dispatch(  # noqa: PLR0911 - one return per API Gateway outcome
        self,
        request: Request,
        route: Route,
        path: str,
        params: dict[str, str],
        request_id: str,
        context: dict[str, str],
    ) -> Response:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return self.gateway_response("REQUEST_TOO_LARGE", request, context)
        claims: dict[str, Any] | None = None
        if route.authorization == "COGNITO_USER_POOLS":
            try:
                claims = self.verifier.verify(request.headers.get(route.identity_header), route.pool_ids)
            except Unauthorized:
                return self.gateway_response("UNAUTHORIZED", request, context)
        if route.mock is not None:
            return _mock_response(route.mock, request)
        if route.function_arn is None:
            return self.gateway_response("API_CONFIGURATION_ERROR", request, context)
        event = self.proxy_event(request, route, path, params, request_id, claims)
        result = self._invoke(route.function_arn, event)
        if result.errored:
            return self.gateway_response("INTEGRATION_FAILURE", request, context)
        try:
            return proxy_response(result.payload)
        except ValueError:
            LOG.warning("%s %s: malformed Lambda proxy response", route.method, route.resource_path)
            return self.gateway_response("INTEGRATION_FAILURE", request, context)

    def proxy_event(
        self,
        request: Request,
        route: Route,
        path: str,
        params: dict[str, str],
        request_id: str,
        claims: dict[str, Any] | None,
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        source_ip = request.remote_addr or "127.0.0.1"
        headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            headers.setdefault(name, []).append(value)
        headers.setdefault("X-Forwarded-For", [source_ip])
        headers.setdefault("X-Forwarded-Proto", ["http"])
        headers.setdefault("X-Forwarded-Port", [str(request.environ.get("SERVER_PORT", ""))])
        headers.setdefault("X-Amzn-Trace-Id", [f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}"])
        query = {key: request.args.getlist(key) for key in request.args}
        raw = request.get_data(cache=False)
        body: str | None = None
        is_base64 = False
        if raw:
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                body, is_base64 = base64.b64encode(raw).decode(), True
        request_context: dict[str, Any] = {
            "resourceId": route.resource_id,
            "resourcePath": route.resource_path,
            "httpMethod": request.method,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{self.model.stage}{path}",
            "accountId": self._account_id,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "stage": self.model.stage,
            "domainPrefix": self.model.api_id,
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": request.headers.get("User-Agent"),
                "user": None,
            },
            "domainName": request.host,
            "apiId": self.model.api_id,
        }
        if claims is not None:
            request_context["authorizer"] = {"claims": claims_as_strings(claims)}
        return {
            "resource": route.resource_path,
            "path": path,
            "httpMethod": request.method,
            "headers": {name: values[-1] for name, values in headers.items()},
            "multiValueHeaders": headers,
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": request_context,
            "body": body,
            "isBase64Encoded": is_base64,
        }

    def gateway_response(self, response_type: str, request: Request, context: dict[str, str]) -> Response:
        status, message, error_type = _DEFAULT_RESPONSES[response_type]
        family = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
        custom = self.model.responses.get(response_type) or self.model.responses.get(family)
        if custom is not None and response_type in self.model.responses and custom.status:
            status = custom.status
        variables = {
            **{f"context.{k}": v for k, v in context.items()},
            "context.stage": self.model.stage,
            "context.apiId": self.model.api_id,
            "context.error.message": message,
            "context.error.messageString": json.dumps(message),
            "context.error.responseType": response_type,
            "context.identity.sourceIp": request.remote_addr or "",
        }
        template = '{"message":$context.error.messageString}'
        if custom is not None and custom.templates:
            template = custom.templates.get("application/json") or next(iter(custom.templates.values()))
        body = _VARIABLE.sub(lambda m: _substitute(m, variables), template)
        response = Response(body, status=status, content_type="application/json")
        if error_type:
            response.headers["x-amzn-ErrorType"] = error_type
        for key, value in (custom.parameters if custom else {}).items():
            if key.startswith("gatewayresponse.header."):
                response.headers[key.removeprefix("gatewayresponse.header.")] = _parameter_value(value, request)
        return response

    def _log(self, method: str, resource_path: str, response: Response, started: float) -> None:
        # Route template only: actual paths and bodies may carry personal data.
        elapsed = (time.monotonic() - started) * 1000
        LOG.info("%s %s -> %d (%.0f ms)", method, resource_path, response.status_code, elapsed)


_VARIABLE = re.compile(r"\$(?:\{([A-Za-z0-9_.]+)\}|([A-Za-z][A-Za-z0-9_.]*[A-Za-z0-9_]))")


def _substitute(match: re.Match[str], variables: dict[str, str]) -> str:
    """A `$context.x` variable's value; unknown context variables are empty, as in VTL."""
    name = match.group(1) or match.group(2)
    if name in variables:
        return variables[name]
    return "" if name.startswith(("context.", "stageVariables.")) else match.group(0)


def _parameter_value(value: str, request: Request) -> str:
    if len(value) >= 2 and value.startswith("'") and value.endswith("'"):
        return value[1:-1]
    for prefix, source in (
        ("method.request.header.", request.headers),
        ("method.request.querystring.", request.args),
    ):
        if value.startswith(prefix):
            return str(source.get(value.removeprefix(prefix), ""))
    return ""


# The response template CDK's addCorsPreflight writes when it allows several origins: API
# Gateway answers the first origin (a static header parameter) unless the request's Origin is
# one of the others, which the template then echoes.
_CDK_CORS_TEMPLATE = re.compile(
    r'#set\(\$origin = \$input\.params\(\)\.header\.get\("Origin"\)\)\n'
    r'#if\(\$origin == ""\)\n'
    r'  #set\(\$origin = \$input\.params\(\)\.header\.get\("origin"\)\)\n'
    r"#end\n"
    r"#if\((?P<condition>[^\n]+)\)\n"
    r"  #set\(\$context\.responseOverride\.header\.Access-Control-Allow-Origin = \$origin\)\n"
    r"#end"
)
_CDK_ORIGIN_TEST = re.compile(r'\$origin == "(?P<origin>[^"]+)"')


def mock_answer(integration: dict[str, Any]) -> MockAnswer:
    """A MOCK integration as the runtime answers it; TemplateError for a response template
    other than CDK's CORS template, which the runtime could not answer as API Gateway would."""
    responses = integration.get("IntegrationResponses") or [{}]
    first = responses[0]
    parameters = {
        key.removeprefix("method.response.header."): str(value)
        for key, value in (first.get("ResponseParameters") or {}).items()
        if key.startswith("method.response.header.")
    }
    echoed: set[str] = set()
    for content_type, template in (first.get("ResponseTemplates") or {}).items():
        matched = _CDK_CORS_TEMPLATE.fullmatch(str(template))
        tests = [_CDK_ORIGIN_TEST.fullmatch(test) for test in matched["condition"].split(" || ")] if matched else []
        if not tests or not all(tests):
            raise TemplateError(f"MOCK integration response template ({content_type}) is not CDK's CORS template")
        echoed.update(test["origin"] for test in tests if test is not None)
    return MockAnswer(int(first.get("StatusCode", 200)), parameters, frozenset(echoed))


def _mock_response(mock: MockAnswer, request: Request) -> Response:
    """The integration response's headers; the Origin echoed when the template names it."""
    response = Response(b"", status=mock.status)
    for name, value in mock.parameters.items():
        response.headers[name] = _parameter_value(value, request)
    origin = request.headers.get("Origin", "")  # either case, as the template looks both up
    if origin in mock.echoed_origins:
        response.headers["Access-Control-Allow-Origin"] = origin  # $context.responseOverride.header
    return response


def proxy_response(payload: str) -> Response:
    """A Lambda proxy result as HTTP; ValueError when it is not one (API Gateway answers 502)."""
    result = json.loads(payload)
    if not isinstance(result, dict) or "statusCode" not in result:
        raise ValueError("not a proxy response")
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        raise ValueError("statusCode is not a number") from None
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise ValueError("body must be a string")
    data: bytes | str = body or ""
    if result.get("isBase64Encoded") and body:
        try:
            data = base64.b64decode(body, validate=True)
        except binascii.Error:
            raise ValueError("body is not base64") from None
    response = Response(data, status=status)
    del response.headers["Content-Type"]
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        response.headers.remove(name)
        for value in values:
            response.headers.add(name, str(value))
    if "Content-Type" not in response.headers:
        response.headers["Content-Type"] = "application/json"
    return response
