"""Synthesizes the CDK app into cdk.out unless nothing it reads has changed.

`make run`, `make test` and the test fixtures all go through here, so the local runtime
and the tests always use the template that `npx cdk deploy` would deploy.
Usage: python infra/synth.py [--stage dev] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTDIR = ROOT / "cdk.out"
# docs/openapi.json: the API's routes come from it (prakerja_infra.routes).
INPUTS = ["infra", "functions", "layers", "requirements/lambda.lock", "cdk.json", "docs/openapi.json"]


def _inputs_digest(stage: str) -> str:
    h = hashlib.sha256(stage.encode())
    for entry in INPUTS:
        path = ROOT / entry
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts:
                continue
            h.update(str(file.relative_to(ROOT)).encode())
            h.update(file.read_bytes())
    return h.hexdigest()


def template_path(stage: str = "dev") -> Path:
    return OUTDIR / f"Prakerja-{stage}.template.json"


def ensure_synthesized(stage: str = "dev", *, force: bool = False) -> Path:
    """Path of the stage's template, synthesized first if any input changed."""
    stamp = OUTDIR / f".inputs-{stage}"
    digest = _inputs_digest(stage)
    if not force and stamp.exists() and stamp.read_text() == digest and template_path(stage).exists():
        return template_path(stage)
    env = {**os.environ, "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1"}
    subprocess.run(  # noqa: S603 - fixed argument list
        [sys.executable, str(ROOT / "infra" / "app.py"), "-c", f"stage={stage}"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    stamp.write_text(digest)
    return template_path(stage)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stage", default="dev", choices=["dev", "staging", "prod"])
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    print(ensure_synthesized(args.stage, force=args.force))


if __name__ == "__main__":
    main()
