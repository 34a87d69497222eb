"""Builds the two Lambda layers without Docker, once per change of their inputs.

- ``dependencies``: the pinned third-party wheels for the Lambda runtime's Python and
  architecture (``pip --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64
  --only-binary=:all:``).
- ``shared``: the ``prakerja`` package (domain, services, adapters).

Each build directory carries a stamp with the hash of its inputs, so synthesizing again
(in every test session, on every ``make run``) costs nothing when nothing changed.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "layers"
LAMBDA_LOCK = ROOT / "requirements" / "lambda.lock"
SHARED_SOURCE = ROOT / "layers" / "shared" / "prakerja"

LAMBDA_PYTHON_VERSION = "3.14"
# Lambda's Amazon Linux 2023 has glibc 2.34: manylinux2014 and manylinux_2_28 wheels both run.
LAMBDA_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
# The Lambda Python runtime ships boto3 and its dependencies; bundling them again only
# makes the layer larger and can shadow the runtime's patched versions.
PROVIDED_BY_RUNTIME = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"})


def _digest(paths: list[Path], extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for path in sorted(paths):
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _is_current(target: Path, digest: str) -> bool:
    stamp = target / ".stamp"
    return stamp.exists() and stamp.read_text() == digest


def _pinned_requirements() -> list[str]:
    pins = []
    for raw in LAMBDA_LOCK.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name = line.split("==")[0].split("[")[0].strip().lower()
        if name not in PROVIDED_BY_RUNTIME:
            pins.append(line)
    return pins


def dependencies_layer() -> Path:
    """Directory of the third-party layer (``python/`` inside), built if stale."""
    target = BUILD / "dependencies"
    digest = _digest([LAMBDA_LOCK], f"{LAMBDA_PYTHON_VERSION}/{LAMBDA_PLATFORMS}")
    if _is_current(target, digest):
        return target
    shutil.rmtree(target, ignore_errors=True)
    (target / "python").mkdir(parents=True)
    # --no-deps: the lock is complete, and the runtime-provided packages are left out on purpose.
    subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            *(arg for platform in LAMBDA_PLATFORMS for arg in ("--platform", platform)),
            "--implementation",
            "cp",
            "--python-version",
            LAMBDA_PYTHON_VERSION,
            "--only-binary=:all:",
            # The wheels are for the Lambda runtime's Python, not this interpreter's.
            "--ignore-requires-python",
            "--target",
            str(target / "python"),
            *_pinned_requirements(),
        ],
        check=True,
    )
    (target / ".stamp").write_text(digest)
    return target


def shared_layer() -> Path:
    """Directory of the shared-code layer: ``python/prakerja``."""
    target = BUILD / "shared"
    sources = [p for p in SHARED_SOURCE.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    digest = _digest(sources)
    if _is_current(target, digest):
        return target
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(SHARED_SOURCE, target / "python" / "prakerja", ignore=shutil.ignore_patterns("__pycache__"))
    (target / ".stamp").write_text(digest)
    return target
