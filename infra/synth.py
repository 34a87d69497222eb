"""Synthesizes the CDK app into cdk.out unless nothing it reads has changed.

`make run`, `make test` and the test fixtures all go through here, so the local runtime
and the tests always use the template that `npx cdk deploy` would deploy.
The stage's stack is written as Prakerja-<stage>.template.json, each of its nested stacks (the
alarms) as a *.nested.template.json next to it: a file asset of the parent, which CloudFormation
reads from the bootstrap bucket on deploy.
Usage: python infra/synth.py [--stage dev] [--force] [--counts]
"""

from __future__ import annotations

import argparse
import hashlib
import json
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


def nested_template_paths(parent: Path) -> dict[str, Path]:
    """The templates of a stack's nested stacks (theirs too), by the logical id of the
    ``AWS::CloudFormation::Stack`` resource that deploys each. A nested template is a file asset
    of the top stack: its TemplateURL ends in the asset's hash, which the assets manifest maps to
    the file CDK wrote next to the parent."""
    top = parent.name.removesuffix(".nested.template.json").removesuffix(".template.json")
    manifest = parent.parent / f"{top}.assets.json"
    files = json.loads(manifest.read_text())["files"] if manifest.exists() else {}
    found: dict[str, Path] = {}
    pending = [parent]
    while pending:
        template = json.loads(pending.pop().read_text())
        for logical_id, resource in template.get("Resources", {}).items():
            if resource.get("Type") != "AWS::CloudFormation::Stack":
                continue
            url = resource["Properties"]["TemplateURL"]
            tail = url["Fn::Join"][1][-1] if isinstance(url, dict) else url
            asset_hash = str(tail).rsplit("/", 1)[-1].removesuffix(".json")
            found[logical_id] = parent.parent / files[asset_hash]["source"]["path"]
            pending.append(found[logical_id])
    return found


def resource_counts(parent: Path) -> dict[str, int]:
    """Resources per template, the stack's own and each nested one's: CloudFormation's limit of
    500 applies to each separately (tests/infra/test_deploy_readiness.py keeps each at 400)."""
    paths = [parent, *nested_template_paths(parent).values()]
    return {path.name: len(json.loads(path.read_text())["Resources"]) for path in paths}


def _synthesized(stage: str) -> bool:
    path = template_path(stage)
    return path.exists() and all(nested.exists() for nested in nested_template_paths(path).values())


def ensure_synthesized(stage: str = "dev", *, force: bool = False) -> Path:
    """Path of the stage's template, synthesized first if any input changed."""
    stamp = OUTDIR / f".inputs-{stage}"
    digest = _inputs_digest(stage)
    if not force and stamp.exists() and stamp.read_text() == digest and _synthesized(stage):
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
    parser.add_argument("--counts", action="store_true", help="print the resources of each stack and nested stack")
    args = parser.parse_args()
    path = ensure_synthesized(args.stage, force=args.force)
    print(path)
    if args.counts:
        for name, count in resource_counts(path).items():
            print(f"{count:5d}  {name}")


if __name__ == "__main__":
    main()
