"""Lambda emulation: each function's real handler runs in a pool of worker processes.

A worker is a "spawn" process that sets the function's environment, sends its output to
`<state_dir>/logs/<LogicalId>.log`, imports the handler once (the cold start) and then
serves invocations over a pipe, like a Lambda execution environment. Pools grow on demand
up to `max_concurrency` workers per function and reuse idle ones.

Each invocation message is `("invoke", request_id, event_json, deadline_ms, clock_offset_s)`:
the application clock's offset travels with every invocation (workers are long-lived, and
the runtime may move program time between two calls), and the worker hands it to
`prakerja.clock.simulate_offset` before the handler runs.

This module is imported by every worker at start: keep its top-level imports light.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import importlib
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
import types
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, NamedTuple

LOG = logging.getLogger("localcloud.lambda")
DEFAULT_MAX_CONCURRENCY = 8
READY_TIMEOUT_S = 120.0
_BASE_ENV_KEYS = ("PATH", "HOME", "LANG", "TMPDIR", "PYTHONDONTWRITEBYTECODE", "SYSTEMROOT")


@dataclass(frozen=True)
class FunctionSpec:
    """Everything a worker process needs; picklable."""

    logical_id: str
    function_name: str
    function_arn: str
    handler: str
    timeout_s: int
    memory_mb: int
    environment: Mapping[str, str]
    code_paths: tuple[str, ...]
    log_path: str
    hide_paths_under: str | None = None
    """sys.path entries under this directory (the repo) are dropped, except code_paths and
    virtualenvs, so handlers cannot import what would not be deployed (tests, infra...)."""


class InvokeResult(NamedTuple):
    payload: str
    errored: bool
    logs: str


def lambda_environment(
    *,
    function_name: str,
    memory_mb: int,
    timeout_s: int,
    handler: str,
    runtime: str,
    region: str,
    endpoint_url: str,
    variables: Mapping[str, str],
    overrides: Mapping[str, str],
) -> dict[str, str]:
    """A clean environment like Lambda's, pointed at the embedded moto."""
    env = {k: os.environ[k] for k in _BASE_ENV_KEYS if k in os.environ}
    env.update(
        {
            "LANG": env.get("LANG", "en_US.UTF-8"),
            "TZ": ":UTC",
            "_HANDLER": handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout_s),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"localcloud/[$LATEST]{uuid.uuid4().hex}",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "localcloud",
            "AWS_SECRET_ACCESS_KEY": "localcloud",
            "AWS_SESSION_TOKEN": "localcloud",
            "AWS_ENDPOINT_URL": endpoint_url,
            # Never read the developer's real AWS config or credentials.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    env.update(variables)
    env.update(overrides)
    return env


# -- the worker process ---------------------------------------------------------------------
class LambdaContext:
    """The `context` argument: the attributes handlers and Powertools read."""

    def __init__(self, spec: FunctionSpec, request_id: str, deadline_ms: int) -> None:
        self.function_name = spec.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.function_arn
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{spec.function_name}"
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity: Any = None
        self.client_context: Any = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _user_traceback(error: BaseException) -> types.TracebackType | None:
    """The traceback without this runtime's own frame, as Lambda reports it."""
    tb = error.__traceback__
    return tb.tb_next if tb is not None and tb.tb_frame.f_code.co_filename == __file__ else tb


def _error_payload(error: BaseException, error_type: str | None = None) -> dict[str, Any]:
    frames = traceback.extract_tb(_user_traceback(error))
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        "requestId": "",
        "stackTrace": traceback.format_list(frames),
    }


def _json_default(value: Any) -> Any:
    # What the Lambda Python runtime does for Decimal (boto3's DynamoDB numbers).
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class _Handler:
    """The imported handler, or the error importing it (retried on the next invoke, as Lambda does)."""

    def __init__(self, handler: str) -> None:
        self._name = handler
        self.function: Callable[[Any, Any], Any] | None = None
        self.error: dict[str, Any] | None = None

    def load(self) -> None:
        module_name, _, attribute = self._name.rpartition(".")
        try:
            importlib.invalidate_caches()
            module = importlib.import_module(module_name)
        except Exception as exc:  # any import-time failure is the function's init error
            self.error = {
                **_error_payload(exc, "Runtime.ImportModuleError"),
                "errorMessage": f"Unable to import module '{module_name}': {exc}",
            }
            _print_error(self.error["errorType"], self.error["errorMessage"], exc)
            return
        function = getattr(module, attribute, None)
        if not callable(function):
            message = f"Handler '{attribute}' missing on module '{module_name}'"
            self.error = {"errorMessage": message, "errorType": "Runtime.HandlerNotFound", "stackTrace": []}
            print(f"[ERROR] Runtime.HandlerNotFound: {message}", file=sys.stderr, flush=True)
            return
        self.function, self.error = function, None


def _print_error(error_type: str, message: str, exc: BaseException) -> None:
    trace = "".join(traceback.format_exception(type(exc), exc, _user_traceback(exc)))
    print(f"[ERROR] {error_type}: {message}\n{trace}", file=sys.stderr, flush=True)


def _isolate_sys_path(spec: FunctionSpec) -> None:
    kept = []
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        hidden = spec.hide_paths_under is not None and path.is_relative_to(spec.hide_paths_under)
        if not entry or (hidden and not any(part.startswith(".venv") for part in path.parts)):
            continue
        kept.append(entry)
    sys.path[:] = [*spec.code_paths, *kept]


def _redirect_output(log_path: str) -> None:
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]


def _clock_offset_setter() -> Callable[[float], None]:
    """Sets program time in this worker: prakerja.clock's offset, if the code has that layer."""
    try:
        from prakerja.clock import simulate_offset  # noqa: PLC0415 - from the function's code paths
    except ImportError:
        return lambda _seconds: None  # a template without the shared layer has no program clock
    except Exception as exc:  # a broken layer is the handler's import error, reported per invoke
        print(f"[WARNING] program clock unavailable: {exc!r}", file=sys.stderr, flush=True)
        return lambda _seconds: None
    return lambda seconds: simulate_offset(dt.timedelta(seconds=seconds))


def worker_main(spec: FunctionSpec, conn: Connection) -> None:
    """Entry point of a worker process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the runtime, which stops us
    _redirect_output(spec.log_path)
    sys.dont_write_bytecode = True  # the code directory is read-only on Lambda: no __pycache__
    os.environ.clear()
    os.environ.update(spec.environment)
    time.tzset()
    _isolate_sys_path(spec)
    request_filter = _RequestIdFilter()
    root_handler = logging.StreamHandler(sys.stdout)
    root_handler.addFilter(request_filter)
    root_handler.setFormatter(
        logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s")
    )
    logging.Formatter.converter = time.gmtime
    logging.getLogger().addHandler(root_handler)

    set_clock_offset = _clock_offset_setter()  # after _isolate_sys_path: the handler's own copy
    started = time.monotonic()
    handler = _Handler(spec.handler)
    handler.load()
    init_ms = (time.monotonic() - started) * 1000
    conn.send(("ready", handler.error is None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return  # the runtime went away
        if message is None:
            return
        _, request_id, event_json, deadline_ms, clock_offset_s = message
        request_filter.request_id = request_id
        set_clock_offset(clock_offset_s)
        payload, errored = _run_once(spec, handler, request_id, event_json, deadline_ms, init_ms)
        init_ms = 0.0
        conn.send(("result", payload, errored))


def _run_once(
    spec: FunctionSpec, handler: _Handler, request_id: str, event_json: str, deadline_ms: int, init_ms: float
) -> tuple[str, bool]:
    print(f"START RequestId: {request_id} Version: $LATEST", flush=True)
    started = time.monotonic()
    if handler.function is None:
        handler.load()
    errored = True
    if handler.function is None:
        payload = json.dumps({**(handler.error or {}), "requestId": request_id})
    else:
        try:
            result = handler.function(json.loads(event_json), LambdaContext(spec, request_id, deadline_ms))
            try:
                payload, errored = json.dumps(result, default=_json_default), False
            except (TypeError, ValueError) as exc:
                error = {**_error_payload(exc, "Runtime.MarshalError"), "requestId": request_id}
                error["errorMessage"] = f"Unable to marshal response: {exc}"
                payload = json.dumps(error)
        except Exception as exc:  # the function's error, reported like Lambda does
            error = {**_error_payload(exc), "requestId": request_id}
            _print_error(error["errorType"], error["errorMessage"], exc)
            payload = json.dumps(error)
    duration = (time.monotonic() - started) * 1000
    init = f"\tInit Duration: {init_ms:.2f} ms" if init_ms else ""
    print(f"END RequestId: {request_id}", flush=True)
    print(
        f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tMemory Size: {spec.memory_mb} MB{init}",
        flush=True,
    )
    return payload, errored


# -- the runtime side -----------------------------------------------------------------------
_SPAWN_LOCK = threading.Lock()


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """spawn re-runs the parent's __main__ script in the child: a worker must not (slow, and an
    unguarded script would start another runtime), so the child is given none."""
    with _SPAWN_LOCK:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


class _Worker:
    def __init__(self, spec: FunctionSpec) -> None:
        ctx = get_context("spawn")
        self.conn, child_conn = ctx.Pipe(duplex=True)
        self.process: BaseProcess = ctx.Process(
            target=worker_main,
            args=(spec, child_conn),
            name=f"lambda:{spec.logical_id}",
            daemon=True,
        )
        with _main_module_hidden():
            self.process.start()
        child_conn.close()
        self.ready = False

    def wait_ready(self, timeout: float) -> None:
        if self.ready:
            return
        if not self.conn.poll(timeout):
            raise TimeoutError(f"worker {self.process.name} did not start within {timeout:.0f} s")
        self.conn.recv()  # ("ready", handler_loaded): import errors are reported per invoke
        self.ready = True

    def request_stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)

    def stop(self, *, kill: bool = False) -> None:
        if not kill:
            self.request_stop()
            self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=2)
        self.conn.close()


def _no_offset() -> float:
    return 0.0


class FunctionPool:
    """The execution environments of one function.

    clock_offset gives the application clock's offset (seconds) at each invocation.
    """

    def __init__(
        self,
        spec: FunctionSpec,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        clock_offset: Callable[[], float] = _no_offset,
    ) -> None:
        self.spec = spec
        self.max_concurrency = max_concurrency
        self._clock_offset = clock_offset
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._cond = threading.Condition()
        self._closed = False
        # What AWS would bill (`GET /_local/usage`): invocations, and their time in the worker.
        self.invocations = 0
        self.busy_seconds = 0.0

    @property
    def size(self) -> int:
        return len(self._workers)

    def start(self) -> None:
        """Starts one worker now (returns at once; `wait_ready` waits for its cold start)."""
        with self._cond:
            worker = _Worker(self.spec)
            self._workers.add(worker)
            self._idle.append(worker)

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        for worker in list(self._idle):
            worker.wait_ready(timeout)

    def invoke(self, event: Any, request_id: str | None = None) -> InvokeResult:
        request_id = request_id or str(uuid.uuid4())
        event_json = json.dumps(event)
        worker = self._acquire()
        healthy = False
        try:
            worker.wait_ready(READY_TIMEOUT_S)
            deadline_ms = int(time.time() * 1000) + self.spec.timeout_s * 1000
            started = time.monotonic()
            worker.conn.send(("invoke", request_id, event_json, deadline_ms, float(self._clock_offset())))
            # A little grace: the worker's own bookkeeping is not the function's time.
            if not worker.conn.poll(self.spec.timeout_s + 0.5):
                return self._timed_out(request_id)
            _, payload, errored = worker.conn.recv()
            self._count(time.monotonic() - started)
            healthy = True
            return InvokeResult(str(payload), bool(errored), "")
        except TimeoutError as init_timeout:  # the cold start never finished
            failure = {"errorType": "Sandbox.Timedout", "errorMessage": str(init_timeout)}
            return InvokeResult(json.dumps(failure), True, "")
        except (EOFError, OSError):
            code = worker.process.exitcode
            message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}"
            error = {"errorType": "Runtime.ExitError", "errorMessage": message}
            return InvokeResult(json.dumps(error), True, "")
        finally:
            self._release(worker, healthy=healthy)

    def _count(self, seconds: float) -> None:
        with self._cond:
            self.invocations += 1
            self.busy_seconds += seconds

    def _timed_out(self, request_id: str) -> InvokeResult:
        self._count(self.spec.timeout_s)  # billed to the timeout
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        message = f"{stamp} {request_id} Task timed out after {self.spec.timeout_s:.2f} seconds"
        with open(self.spec.log_path, "a", encoding="utf-8") as log:
            log.write(message + "\n")
        error = {"errorType": "Sandbox.Timedout", "errorMessage": message}
        return InvokeResult(json.dumps(error), True, "")

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError(f"function {self.spec.function_name} is shut down")
                if self._idle:
                    return self._idle.pop()
                if len(self._workers) < self.max_concurrency:
                    worker = _Worker(self.spec)
                    self._workers.add(worker)
                    return worker
                self._cond.wait()

    def _release(self, worker: _Worker, *, healthy: bool) -> None:
        with self._cond:
            if healthy and not self._closed:
                self._idle.append(worker)
            else:
                self._workers.discard(worker)
                worker.stop(kill=True)
            self._cond.notify()

    def close(self) -> list[_Worker]:
        """Asks every worker to exit; returns them for the caller to reap."""
        with self._cond:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
            self._idle.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.request_stop()
        return workers


class LambdaWorkers:
    """All functions' pools, found by logical id, function name or ARN."""

    def __init__(
        self,
        specs: Sequence[FunctionSpec],
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        clock_offset: Callable[[], float] = _no_offset,
    ) -> None:
        # Every path (API Gateway, LocalCloud.invoke, moto's Lambda and Step Functions) ends
        # in FunctionPool.invoke, so the offset reaches every invocation.
        self.pools = {spec.logical_id: FunctionPool(spec, max_concurrency, clock_offset) for spec in specs}
        self._by_key: dict[str, FunctionPool] = {}
        for pool in self.pools.values():
            for key in (pool.spec.logical_id, pool.spec.function_name, pool.spec.function_arn):
                self._by_key[key] = pool

    def start(self, *, wait: bool = True) -> None:
        for pool in self.pools.values():  # all spawn first, so cold starts overlap
            pool.start()
        if wait:
            for pool in self.pools.values():
                pool.wait_ready()

    def pool(self, key: str) -> FunctionPool | None:
        """By logical id, name or ARN (a version/alias qualifier is ignored)."""
        if key in self._by_key:
            return self._by_key[key]
        parts = key.split(":")
        return self._by_key.get(parts[6]) if key.startswith("arn:") and len(parts) > 6 else None

    def invoke(self, key: str, event: Any) -> InvokeResult:
        pool = self.pool(key)
        if pool is None:
            raise KeyError(f"no local function {key}")
        return pool.invoke(event)

    def usage(self) -> dict[str, dict[str, float]]:
        """logical id -> invocations and seconds spent in them, since the start."""
        return {
            key: {"invocations": pool.invocations, "seconds": round(pool.busy_seconds, 3)}
            for key, pool in sorted(self.pools.items())
        }

    def close(self) -> None:
        """Stops every worker: all are asked first, so they exit in parallel."""
        workers = [worker for pool in self.pools.values() for worker in pool.close()]
        for worker in workers:
            worker.stop()


@contextlib.contextmanager
def moto_invocations_routed_to(
    workers: LambdaWorkers, around_invoke: Callable[[], contextlib.AbstractContextManager[None]]
) -> Iterator[None]:
    """Within the block, moto's Lambda invoke (boto3 or Step Functions) runs the real code.

    around_invoke wraps each invocation; the runtime uses it to let go of moto's request lock
    when moto itself invokes a function while serving another request (SNS, S3 events...).
    """
    from moto.awslambda.models import LambdaFunction  # noqa: PLC0415 - workers must not load moto

    original = LambdaFunction._invoke_lambda
    original_invoke = LambdaFunction.invoke

    def invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> Any:
        # InvocationType=Event returns at once on AWS; moto would run the function first.
        if (request_headers or {}).get("X-Amz-Invocation-Type") == "Event":
            threading.Thread(target=original_invoke, args=(self, body, {}, {}), daemon=True).start()
            return ""
        return original_invoke(self, body, request_headers, response_headers)

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        pool = workers.pool(str(self.function_name))
        if pool is None:
            error = {"errorType": "Runtime.Unavailable", "errorMessage": f"{self.function_name} is not local"}
            return json.dumps(error), True, ""
        # moto hands over the parsed payload, or the text "{}" when there was none.
        payload = {} if event is None or event == "{}" else event
        with around_invoke():
            result = pool.invoke(payload)
        return result.payload, result.errored, result.logs

    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
    LambdaFunction.invoke = invoke  # type: ignore[method-assign]
    try:
        yield
    finally:
        LambdaFunction._invoke_lambda = original  # type: ignore[method-assign]
        LambdaFunction.invoke = original_invoke  # type: ignore[method-assign]
