"""A runtime of its own for the personal-data scan: it scans everything the runtime holds
(every table, bucket, execution and log line), so nothing else may run in it, and it moves the
application clock forward for the card deadlines.

Besides the e2e fixtures it records the runtime's own log records (from its start) and every
HTTP response the tests receive from the local API."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from localcloud import LocalCloud
from synth import ensure_synthesized
from tests.e2e.conftest import api

__all__ = ["api", "cloud", "responses", "runtime_log"]


class _Collect(logging.Handler):
    """The runtime's own records (``localcloud.*``, every level) and anything else in this
    process at WARNING or above (moto, werkzeug), formatted with their tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.startswith("localcloud") or record.levelno >= logging.WARNING

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="package")
def runtime_log() -> Iterator[list[str]]:
    collected = _Collect()
    runtime, root = logging.getLogger("localcloud"), logging.getLogger()
    previous_level = runtime.level
    runtime.setLevel(logging.DEBUG)
    root.addHandler(collected)
    try:
        yield collected.lines
    finally:
        root.removeHandler(collected)
        runtime.setLevel(previous_level)


@pytest.fixture(scope="package")
def cloud(tmp_path_factory: pytest.TempPathFactory, runtime_log: list[str]) -> Iterator[LocalCloud]:
    runtime = LocalCloud(ensure_synthesized("dev"), api_port=0, state_dir=tmp_path_factory.mktemp("privacy"))
    runtime.start()
    runtime.seed_demo()
    try:
        yield runtime
    finally:
        runtime.stop()


@dataclass(frozen=True)
class Received:
    """One HTTP exchange with the local API, as the client saw it."""

    method: str
    path: str  # without the query string
    status: int
    authorization: str | None
    body: str


@pytest.fixture(scope="package")
def responses(cloud: LocalCloud) -> Iterator[list[Received]]:
    """Every response any test of this package received from the local API (requests is how
    the e2e client and the partner helper call it)."""
    received: list[Received] = []
    send = requests.Session.send

    def recording_send(session: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        response = send(session, request, **kwargs)
        url = str(request.url or "")
        if url.startswith(cloud.api_url):
            path = url.removeprefix(cloud.api_url).split("?", 1)[0]
            auth = request.headers.get("Authorization")
            received.append(Received(str(request.method), path, response.status_code, auth, response.text))
        return response

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(requests.Session, "send", recording_send)
        yield received
