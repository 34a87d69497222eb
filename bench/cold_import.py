"""Cold import of each API function's handler vs. a handler that imports only boto3.

`python -X importtime` of each module in a fresh interpreter, several runs, median of the
module's cumulative import time. A handler's import is its modules and settings only (it makes no
client and calls nothing: tests/unit/test_cold_start.py); each runs with its function's
environment from the synthesized template, provisioned on moto.
Usage: python bench/cold_import.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "infra"))
sys.path.insert(0, str(ROOT))

from localcloud.provision import provision  # noqa: E402
from synth import ensure_synthesized  # noqa: E402

REGION = "ap-southeast-3"
API_FUNCTIONS = ("PublicApi", "ApplicantApi", "OpsApi", "PartnerApi")
BASELINE = "import boto3\n\ndef lambda_handler(event, context):\n    return {}\n"
# The floor every API handler stands on: boto3, Powertools' logger, tracer (the X-Ray SDK), metrics
# and REST resolver with pydantic validation, and nothing of the programme's.
FRAMEWORK = (
    "import boto3\n"
    "from aws_lambda_powertools import Logger, Metrics, Tracer\n"
    "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
    "import pydantic\n\n"
    "logger, metrics, tracer = Logger(), Metrics(), Tracer()\n"
    "app = APIGatewayRestResolver(enable_validation=True)\n\n"
    "def lambda_handler(event, context):\n"
    "    return app.resolve(event, context)\n"
)


def import_microseconds(module: str, env: dict[str, str], extra_path: Path | None = None) -> int:
    path = [str(ROOT / "functions"), str(ROOT / "layers" / "shared")]
    if extra_path:
        path.insert(0, str(extra_path))
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env={**env, "PYTHONPATH": os.pathsep.join(path)},
        capture_output=True,
        text=True,
        check=True,
    )
    for line in result.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    raise RuntimeError(f"{module} not in the importtime output")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server: no line per request
    template = json.loads(ensure_synthesized("dev").read_text())
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    aws = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
    try:
        resources = provision(
            template,
            lambda service: boto3.client(  # type: ignore[call-overload]
                service, region_name=REGION, endpoint_url=endpoint, aws_access_key_id="b", aws_secret_access_key="b"
            ),
        )
        baseline_dir = ROOT / "build" / "bench"
        baseline_dir.mkdir(parents=True, exist_ok=True)
        (baseline_dir / "boto3_only_handler.py").write_text(BASELINE)
        (baseline_dir / "framework_only_handler.py").write_text(FRAMEWORK)
        medians = {}
        for name in API_FUNCTIONS:
            function = resources.find(f"ApiFunctions{name}Function", "AWS::Lambda::Function")
            variables = {k: str(v) for k, v in function.properties["Environment"]["Variables"].items()}
            env = {"PATH": os.environ.get("PATH", ""), **variables, **aws, "POWERTOOLS_TRACE_DISABLED": "true"}
            module = str(function.properties["Handler"]).rsplit(".", 1)[0]
            runs = [import_microseconds(module, env) for _ in range(args.runs)]
            medians[module] = statistics.median(runs) / 1000
        baseline = [import_microseconds("boto3_only_handler", env, baseline_dir) for _ in range(args.runs)]
        framework = [import_microseconds("framework_only_handler", env, baseline_dir) for _ in range(args.runs)]
    finally:
        server.stop()
    baseline_ms = statistics.median(baseline) / 1000
    framework_ms = statistics.median(framework) / 1000
    print(f"boto3-only handler cold import: median {baseline_ms:.0f} ms over {args.runs} runs")
    ratio = framework_ms / baseline_ms
    print(f"framework-only handler (Powertools, X-Ray SDK, pydantic): median {framework_ms:.0f} ms, ratio={ratio:.2f}")
    for module, handler_ms in medians.items():
        print(f"{module} cold import: median {handler_ms:.0f} ms, ratio={handler_ms / baseline_ms:.2f}")


if __name__ == "__main__":
    main()
