"""Cold import of the applicant API handler vs. a handler that imports only boto3.

`python -X importtime` of each module in a fresh interpreter, several runs, median of the
module's cumulative import time. The applicant handler's import includes its cold-start
wiring (settings, clients, the hashing key from Secrets Manager), served here by moto
provisioned from the synthesized template.
Usage: python bench/cold_import.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
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
BASELINE = "import boto3\n\ndef lambda_handler(event, context):\n    return {}\n"


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
        function = resources.find("ApiFunctionsApplicantApiFunction", "AWS::Lambda::Function")
        variables = {k: str(v) for k, v in function.properties["Environment"]["Variables"].items()}
        env = {"PATH": os.environ.get("PATH", ""), **variables, **aws, "POWERTOOLS_TRACE_DISABLED": "true"}
        baseline_dir = ROOT / "build" / "bench"
        baseline_dir.mkdir(parents=True, exist_ok=True)
        (baseline_dir / "boto3_only_handler.py").write_text(BASELINE)

        handler = [import_microseconds("applicant_api.handler", env) for _ in range(args.runs)]
        baseline = [import_microseconds("boto3_only_handler", env, baseline_dir) for _ in range(args.runs)]
    finally:
        server.stop()
    handler_ms = statistics.median(handler) / 1000
    baseline_ms = statistics.median(baseline) / 1000
    print(f"applicant_api.handler cold import: median {handler_ms:.0f} ms over {args.runs} runs")
    print(f"boto3-only handler cold import:    median {baseline_ms:.0f} ms over {args.runs} runs")
    print(f"ratio={handler_ms / baseline_ms:.2f} handler_ms={handler_ms:.0f} boto3_only_ms={baseline_ms:.0f}")


if __name__ == "__main__":
    main()
