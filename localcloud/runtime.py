"""LocalCloud: the whole stack in one process (plus Lambda workers), from the synthesized template.

    with LocalCloud(template_path, api_port=0, state_dir=tmp_path) as cloud:
        requests.get(cloud.api_url + "/v1/health")

moto serves the AWS services on `moto_url`; the emulated API Gateway and the /_local
routes on `api_url`; each Lambda function runs its real handler in worker processes.
`clock` is the application clock: `cloud.clock.advance(86400)` moves program time a day
forward (every handler's `SystemClock().now()`) and runs the template's scheduled jobs
that fell due (see program_clock.py).

moto's state is global to the process, so only one LocalCloud may run at a time, and
`moto.mock_aws()` must not be used while it runs (it resets every backend). In pytest, give
the fixture package or module scope so it stops before other tests use mock_aws:

    @pytest.fixture(scope="package")
    def cloud(tmp_path_factory):
        with LocalCloud(ensure_synthesized("dev"), api_port=0, state_dir=tmp_path_factory.mktemp("lc")) as c:
            yield c
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import boto3
from moto.core.config import default_user_config
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.utilities.utils import load_resource
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from localcloud import moto_speedups
from localcloud.apigateway import ApiGateway, CognitoVerifier, RestApiModel
from localcloud.civil_registry import CivilRegistry
from localcloud.demo import DEMO_OPS_EMAIL, seed_demo_program
from localcloud.lambda_workers import (
    DEFAULT_MAX_CONCURRENCY,
    FunctionSpec,
    LambdaWorkers,
    lambda_environment,
    moto_invocations_routed_to,
)
from localcloud.local_routes import LocalRoutes, TokenIssuer
from localcloud.payment_partners import PaymentPartners, http_callback_sender
from localcloud.program_clock import ProgramClock, scheduled_jobs
from localcloud.provision import Resources, provision
from localcloud.template import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    LOCAL_STACK_PARAMETERS,
    PseudoParameters,
    Template,
)
from prakerja.adapters.dynamodb import from_item
from prakerja.partners import PartnerKind, load_partners

LOG = logging.getLogger("localcloud")
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CODE_PATHS = (REPO_ROOT / "functions", REPO_ROOT / "layers" / "shared")
LOCAL_CALLBACK_TIMEOUT_SECONDS = 5
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/[^/]+/invocations/?$")
_MULTI_ITEM = {f"dynamodb:{op}" for op in ("TransactWriteItems", "TransactGetItems", "BatchWriteItem", "BatchGetItem")}
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,]+/[^/]+/[^/]+/([^/]+)/aws4_request")
WSGIApp = Callable[[dict[str, Any], Any], Any]


class FunctionError(Exception):
    """A function invoked with LocalCloud.invoke raised; `payload` is Lambda's error payload."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(f"{payload.get('errorType')}: {payload.get('errorMessage')}")
        self.payload = payload


class SerializingMiddleware:
    """One moto request at a time, so conditional writes and transactions are atomic as on AWS.

    moto's backends are not thread-safe. Lambda invocations are let through unlocked: they
    take as long as the function runs, and the function itself calls moto.
    """

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._local = threading.local()
        self._counted = threading.Lock()
        self.requests: Counter[str] = Counter()  # "<service>:<operation>" -> AWS requests served
        self.items: Counter[str] = Counter()  # the items DynamoDB's batch and transaction requests name

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        invoke = bool(_INVOKE_PATH.match(environ.get("PATH_INFO", "")))
        operation = _operation(environ, invoke)
        items = _items_named(environ) if operation in _MULTI_ITEM else 0
        with self._counted:
            self.requests[operation] += 1
            self.items[operation] += items
        if invoke:
            return self._app(environ, start_response)
        with self._lock:
            self._local.held = True
            try:
                return list(self._app(environ, start_response))  # the body is built under the lock too
            finally:
                self._local.held = False

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        """Lets go of the lock while moto, serving a request, invokes a function (SNS, S3...)."""
        if not getattr(self._local, "held", False):
            yield
            return
        self._local.held = False
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()
            self._local.held = True


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # no access log: URLs can carry personal data; the API logs route templates


class _Server:
    """A threaded werkzeug server on its own thread."""

    def __init__(self, host: str, port: int, app: WSGIApp, handler: type[WSGIRequestHandler]) -> None:
        self.httpd: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=handler)
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, args=(0.1,), name=f"http:{self.port}", daemon=True
        )
        self._closed = False

    def serve(self) -> None:
        self._thread.start()

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()


class LocalCloud:
    _active: ClassVar[LocalCloud | None] = None
    _active_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        template_path: Path,
        *,
        api_port: int = 3000,
        moto_port: int = 0,
        state_dir: Path = Path(".local"),
        env_overrides: dict[str, str] | None = None,
        code_paths: Sequence[Path] | None = None,
        host: str = "127.0.0.1",
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        region: str = DEFAULT_REGION,
        stack_name: str | None = None,
    ) -> None:
        self.template_path = Path(template_path)
        self.state_dir = Path(state_dir)
        self._api_port = api_port
        self._moto_port = moto_port
        self._host = host
        self._env_overrides = dict(env_overrides or {})
        self._code_paths = tuple(Path(p).resolve() for p in (code_paths or DEFAULT_CODE_PATHS))
        self._max_concurrency = max_concurrency
        self.region = region
        self.account_id = DEFAULT_ACCOUNT_ID
        # cdk.out/Prakerja-dev.template.json -> "Prakerja-dev", as CloudFormation would name it
        stack_name = stack_name or self.template_path.name.removesuffix(".json").removesuffix(".template")
        self.template = Template.load(self.template_path, PseudoParameters(stack_name, region), LOCAL_STACK_PARAMETERS)
        self.registry = CivilRegistry()
        self.startup_seconds = 0.0
        self._resources: Resources | None = None
        self._workers: LambdaWorkers | None = None
        self._moto: _Server | None = None
        self._api: _Server | None = None
        self._gateway: ApiGateway | None = None
        self._clock: ProgramClock | None = None
        self._payments: PaymentPartners | None = None
        self._issuer: TokenIssuer | None = None
        self._middleware: SerializingMiddleware | None = None
        self._exit = contextlib.ExitStack()

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalCloud:
        with LocalCloud._active_lock:
            if LocalCloud._active is not None:
                raise RuntimeError("a LocalCloud is already running in this process (moto state is global)")
            LocalCloud._active = self
        self._exit.callback(self._release_active)
        started = time.monotonic()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _start(self) -> None:
        self._exit.enter_context(moto_speedups.patched())
        self._configure_moto()
        middleware = self._middleware = SerializingMiddleware(DomainDispatcherApplication(create_backend_app))
        self._moto = _Server(self._host, self._moto_port, middleware, _moto_handler())
        self._exit.callback(self._moto.shutdown)
        self._set_env("MOTO_PORT", str(self._moto.port))  # where moto's Step Functions call Lambda
        self._moto.serve()

        self._resources = provision(self.template, self.boto3_client)
        # Rate schedules count from here, as on AWS they count from the rule's creation.
        jobs = scheduled_jobs(self._resources, rate_anchor=datetime.now(UTC))
        self._clock = ProgramClock(
            jobs, lambda: self.boto3_client("stepfunctions"), account_id=self.account_id, region=self.region
        )
        self._gateway = self._api_app()
        self._api = _Server(self._host, self._api_port, self._gateway, _QuietHandler)
        self._exit.callback(self._api.shutdown)

        log_dir = self.state_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self._workers = LambdaWorkers(
            self._function_specs(log_dir), self._max_concurrency, lambda: self.clock.offset_seconds
        )
        self._exit.callback(self._workers.close)
        self._exit.callback(self._api.shutdown)  # again, so it runs first: no requests to closed pools
        self._workers.start(wait=True)
        self._exit.enter_context(moto_invocations_routed_to(self._workers, middleware.released))
        self._exit.callback(self.payment_partners.close)  # again, first: no callbacks to a stopping API
        self._api.serve()

    def stop(self) -> None:
        """Stops servers and workers and forgets moto's state. Safe to call more than once."""
        self._exit.close()

    def _release_active(self) -> None:
        with LocalCloud._active_lock:
            if LocalCloud._active is self:
                LocalCloud._active = None

    def _configure_moto(self) -> None:
        sfn = default_user_config.setdefault("stepfunctions", {})
        previous = sfn.get("execute_state_machine", False)
        # Must precede provisioning: the setting picks the backend state machines are created in.
        sfn["execute_state_machine"] = True

        def restore() -> None:
            moto_api_backend.reset()
            sfn["execute_state_machine"] = previous

        self._exit.callback(restore)
        self._exit.enter_context(_unnamed_executions_get_unique_names())

    def _set_env(self, name: str, value: str) -> None:
        previous = os.environ.get(name)
        os.environ[name] = value

        def restore() -> None:
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous

        self._exit.callback(restore)

    # -- assembly ---------------------------------------------------------------------------
    def _api_app(self) -> ApiGateway:
        resources = self.resources
        clients_by_pool: dict[str, set[str]] = {p.ref: set() for p in resources.of_type("AWS::Cognito::UserPool")}
        for client in resources.of_type("AWS::Cognito::UserPoolClient"):
            clients_by_pool.setdefault(str(client.properties.get("UserPoolId")), set()).add(client.ref)
        # moto signs every pool's tokens with this one key pair (its /<pool>/.well-known/jwks.json).
        jwks = load_resource("cognitoidp/resources/jwks-public.json")
        verifier = CognitoVerifier(self.region, clients_by_pool, jwks)
        self._payments = PaymentPartners(
            self._payment_secrets,
            self.clock.now,
            http_callback_sender(lambda: self.api_url),
            self._put_settlement_report,
        )
        self._exit.callback(self._payments.close)
        routes = LocalRoutes(
            self.registry,
            self._token_issuer,
            resources.physical_ids,
            self._outbox_messages,
            clock=self.clock,
            partners=self.partners,
            payments=self._payments,
            aws=self.aws_description,
            usage=self.usage,
        )
        return ApiGateway(RestApiModel(resources), verifier, self._invoke_raw, routes.handle, self.account_id)

    def _outbox_messages(self) -> list[dict[str, Any]]:
        """Every message in the stack's outbox table (none if the stack has no outbox)."""
        try:
            table = self.resources.find("DataOutboxTable", "AWS::DynamoDB::Table").ref
        except KeyError:
            return []
        pages = self.boto3_client("dynamodb").get_paginator("scan").paginate(TableName=table)
        messages = [from_item(item) for page in pages for item in page.get("Items", [])]
        # DynamoDB numbers come back as Decimal; the messages' numbers are whole (epoch seconds).
        return [{k: int(v) if isinstance(v, Decimal) else v for k, v in m.items()} for m in messages]

    def seed_demo(self) -> dict[str, int]:
        """The demo catalog and budget, added through the ops API (localcloud/demo.py)."""
        issuer = self._token_issuer()
        if issuer is None:
            raise RuntimeError("the template has no user pool to mint an ops token from")
        return seed_demo_program(self.api_url, issuer.token(DEMO_OPS_EMAIL, ["ops"]))

    def partners(self) -> list[dict[str, Any]]:
        """The seeded partners with their signing secrets (API.md, `GET /_local/partners`): each
        partner's secret is the template's secret named ``.../partners/<partner_id>``."""
        secrets = self.boto3_client("secretsmanager")
        found = []
        for secret in self.resources.of_type("AWS::SecretsManager::Secret"):
            name = str(secret.properties.get("Name", ""))
            partner = load_partners().get(name.rpartition("/")[2]) if "/partners/" in name else None
            if partner is not None:
                value = secrets.get_secret_value(SecretId=secret.ref)["SecretString"]
                found.append(
                    {"partner_id": partner.partner_id, "kind": partner.kind, "name": partner.name, "secret": value}
                )
        return sorted(found, key=lambda p: (p["kind"], p["partner_id"]))

    def aws_description(self) -> dict[str, Any]:
        """`GET /_local/aws`: the embedded AWS endpoint and the stack's outputs (state machine
        ARNs, bucket names...), as `aws cloudformation describe-stacks` tells them on AWS."""
        outputs = {name: str(value) for name, value in self.resources.outputs.items()}
        outputs["ApiUrl"] = self.api_url  # the template's execute-api URL means nothing here
        return {
            "endpoint_url": self.moto_url,
            "region": self.region,
            "stack_name": self.template.pseudo.stack_name,
            "outputs": outputs,
        }

    def _payment_secrets(self) -> dict[str, bytes]:
        """provider -> the secret the simulated payment partner signs and checks calls with."""
        return {p["partner_id"]: p["secret"].encode() for p in self.partners() if p["kind"] == PartnerKind.PAYMENT}

    def _put_settlement_report(self, key: str, body: bytes) -> str | None:
        """Drops a partner's settlement file into the payouts bucket, as the partner would."""
        buckets = [b for b in self.resources.of_type("AWS::S3::Bucket") if b.logical_id.startswith("DataPayoutsBucket")]
        if not buckets:
            return None
        bucket = str(buckets[0].ref)
        self.boto3_client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/csv")
        return bucket

    def _token_issuer(self) -> TokenIssuer | None:
        if self._issuer is None:  # one client for every token: making one costs ~0.1 s
            self._issuer = self._new_token_issuer()
        return self._issuer

    def _new_token_issuer(self) -> TokenIssuer | None:
        pools = self.resources.of_type("AWS::Cognito::UserPool")
        if not pools:
            return None
        pool = pools[0]
        clients = [
            c
            for c in self.resources.of_type("AWS::Cognito::UserPoolClient")
            if c.properties.get("UserPoolId") == pool.ref
        ]
        if not clients:
            return None
        secret = clients[0].attributes.get("ClientSecret")
        return TokenIssuer(self.boto3_client("cognito-idp"), pool.ref, clients[0].ref, secret)

    def _function_specs(self, log_dir: Path) -> list[FunctionSpec]:
        overrides = {
            "CIVIL_REGISTRY_URL": f"{self.api_url}/_local/dukcapil",
            "PAYMENT_PARTNERS_URL": f"{self.api_url}/_local/payment-partners",
            # The simulated partners answer in a fraction of a second (real ones within minutes):
            # a callback that has not come after a few seconds is not coming.
            "PAYOUT_CALLBACK_TIMEOUT_SECONDS": str(LOCAL_CALLBACK_TIMEOUT_SECONDS),
            **self._env_overrides,
        }
        specs = []
        for function in self.resources.of_type("AWS::Lambda::Function"):
            props = function.properties
            if not runs_here(props):
                continue
            log_path = log_dir / f"{function.logical_id}.log"
            log_path.write_text("")
            environment = lambda_environment(
                function_name=function.ref,
                memory_mb=int(props.get("MemorySize", 128)),
                timeout_s=int(props.get("Timeout", 3)),
                handler=str(props.get("Handler")),
                runtime=str(props.get("Runtime", "python3.12")),
                region=self.region,
                endpoint_url=self.moto_url,
                variables={k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()},
                overrides=overrides,
            )
            specs.append(
                FunctionSpec(
                    logical_id=function.logical_id,
                    function_name=function.ref,
                    function_arn=str(function.arn),
                    handler=str(props.get("Handler")),
                    timeout_s=int(props.get("Timeout", 3)),
                    memory_mb=int(props.get("MemorySize", 128)),
                    environment=environment,
                    code_paths=tuple(str(p) for p in self._code_paths),
                    log_path=str(log_path.resolve()),
                    hide_paths_under=str(REPO_ROOT),
                )
            )
        return specs

    # -- public API -------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        if self._api is None:
            raise RuntimeError("not started")
        return f"http://{self._host}:{self._api.port}"

    @property
    def moto_url(self) -> str:
        if self._moto is None:
            raise RuntimeError("not started")
        return f"http://{self._host}:{self._moto.port}"

    @property
    def clock(self) -> ProgramClock:
        """The application clock: `now()`, `offset_seconds`, `advance(seconds)`."""
        if self._clock is None:
            raise RuntimeError("not started")
        return self._clock

    @property
    def payment_partners(self) -> PaymentPartners:
        """The simulated payment partners: `transfers()`, `paid_amounts()`, `set_faults()`,
        `wait_idle()`, `reset()` (see payment_partners.py)."""
        if self._payments is None:
            raise RuntimeError("not started")
        return self._payments

    @property
    def resources(self) -> Resources:
        if self._resources is None:
            raise RuntimeError("not started")
        return self._resources

    def usage(self) -> dict[str, Any]:
        """What the stack has used since it started, as AWS would count it for the bill: AWS
        requests by service and operation, and each function's invocations and seconds."""
        middleware = self._middleware
        requests = dict(sorted(middleware.requests.items())) if middleware else {}
        items = {op: n for op, n in sorted(middleware.items.items()) if n} if middleware else {}
        functions = self._workers.usage() if self._workers else {}
        return {"aws_requests": requests, "dynamodb_items": items, "functions": functions}

    def boto3_client(self, service: str) -> Any:
        """A client of the embedded moto (fake credentials, the stack's region)."""
        session = boto3.session.Session(
            aws_access_key_id="localcloud",
            aws_secret_access_key="localcloud",  # noqa: S106 - moto accepts anything
            region_name=self.region,
        )
        return session.client(service, endpoint_url=self.moto_url)  # type: ignore[call-overload]

    def _invoke_raw(self, key: str, event: dict[str, Any]) -> Any:
        if self._workers is None:
            raise RuntimeError("not started")
        return self._workers.invoke(key, event)

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Runs a function's handler with the event; its result, or FunctionError if it failed."""
        result = self._invoke_raw(logical_id, event)
        payload = json.loads(result.payload)
        if result.errored:
            raise FunctionError(payload)
        return payload

    def worker_counts(self) -> dict[str, int]:
        """Live worker processes per function (logical id)."""
        if self._workers is None:
            return {}
        return {logical_id: pool.size for logical_id, pool in self._workers.pools.items()}

    def function_logs(self, logical_id: str | None = None) -> str:
        """Everything the Lambda workers printed (one function's, or all with headers)."""
        log_dir = self.state_dir / "logs"
        if logical_id is not None:
            path = log_dir / f"{logical_id}.log"
            return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        parts = []
        for path in sorted(log_dir.glob("*.log")):
            parts.append(f"==> {path.name} <==\n{path.read_text(encoding='utf-8', errors='replace')}")
        return "\n".join(parts)

    def wait_for_executions(self, state_machine_logical_id_prefix: str | None = None, timeout: float = 30) -> None:
        """Waits until no execution of the (matching) state machines is RUNNING."""
        machines = [
            m.ref
            for m in self.resources.of_type("AWS::StepFunctions::StateMachine")
            if state_machine_logical_id_prefix is None or m.logical_id.startswith(state_machine_logical_id_prefix)
        ]
        sfn = self.boto3_client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            running = [
                e["executionArn"]
                for arn in machines
                for e in sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
            ]
            if not running:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(running)} executions still running after {timeout} s")
            time.sleep(0.1)

    @property
    def api(self) -> RestApiModel:
        """The emulated REST API: stage, routes, gateway responses."""
        if self._gateway is None:
            raise RuntimeError("not started")
        return self._gateway.model


@contextlib.contextmanager
def _unnamed_executions_get_unique_names() -> Iterator[None]:
    """moto's Step Functions interpreter names an unnamed execution "None", so the second one
    fails with ExecutionAlreadyExists; AWS gives each a UUID."""
    original = StepFunctionsParserBackend.start_execution

    def start_execution(self: Any, state_machine_arn: str, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]
    try:
        yield
    finally:
        StepFunctionsParserBackend.start_execution = original  # type: ignore[method-assign]


def _operation(environ: dict[str, Any], invoke: bool) -> str:
    """The request as `<service>:<operation>` (dynamodb:PutItem, lambda:Invoke, s3:PUT): the
    service from its signature's scope, the operation from its target header or, for REST
    calls, its HTTP method."""
    scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = scope.group(1) if scope else "unsigned"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    operation = "Invoke" if invoke else target.rsplit(".", 1)[-1] if target else environ.get("REQUEST_METHOD", "?")
    return f"{service}:{operation}"


def _items_named(environ: dict[str, Any]) -> int:
    """How many items a batch or transaction names (each is billed as one item), read from
    the body, which is put back for moto."""
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        request = json.loads(body)
    except ValueError:
        return 0
    if "TransactItems" in request:
        return len(request["TransactItems"])
    named = request.get("RequestItems", {}).values()
    return sum(len(v) if isinstance(v, list) else len(v.get("Keys", [])) for v in named)


def _moto_handler() -> type[WSGIRequestHandler]:
    class QuietMotoHandler(MotoRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass

    return QuietMotoHandler


def runs_here(function_properties: dict[str, object]) -> bool:
    """The program's functions run in Python workers. CDK's own providers (a Node.js handler
    behind a custom resource, such as dev's bucket auto-delete) serve CloudFormation at deploy
    time only: custom resources are not emulated, so nothing would invoke them."""
    return str(function_properties.get("Runtime", "python")).startswith("python")
