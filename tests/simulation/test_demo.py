"""`make demo`, small: the whole cycle on a local runtime of its own, as a user runs it. The
figures are printed, not asserted; what is asserted is what the demo promises: the summary
line with the real values, a balanced ledger, a verified draw, and its files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tools.simulation.population import Kind, build

pytestmark = pytest.mark.e2e
REPO_ROOT = Path(__file__).resolve().parents[2]
APPLICANTS = 60
SEED = "demo"
# What the system must make of each kind of applicant the population brings.
EXPECTED_CODE = {
    Kind.UNDERAGE: "UNDERAGE",
    Kind.STUDENT: "IN_FORMAL_EDUCATION",
    Kind.NOT_IN_REGISTRY: "NIK_NOT_FOUND",
    Kind.NAME_MISMATCH: "IDENTITY_MISMATCH",
    Kind.EXCLUDED_OCCUPATION: "EXCLUDED_OCCUPATION",
    Kind.DUPLICATE: "NIK_ALREADY_REGISTERED",
}
SUMMARY = re.compile(
    r"^demo: applicants=(\d+) selected=(\d+) paid=(\d+) ledger_balanced=(true|false) "
    r"draw_verified=(true|false) seconds=(\d+)$"
)


def test_a_small_cycle_ends_with_the_summary_line_and_its_report(tmp_path: Path) -> None:
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.simulation",
            "--applicants",
            str(APPLICANTS),
            "--seed",
            SEED,
            "--out",
            str(tmp_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    print(ran.stdout[-4000:])
    assert ran.returncode == 0, ran.stderr[-4000:]
    last = ran.stdout.strip().splitlines()[-1]
    matched = SUMMARY.match(last)
    assert matched, last
    applicants, selected, paid, balanced, verified, _ = matched.groups()
    [run] = list(tmp_path.iterdir())
    report = json.loads((run / "report.json").read_text())
    assert int(applicants) == APPLICANTS == report["applicants"]
    assert int(selected) == report["funnel"]["selected"] > 0
    assert int(paid) == report["funnel"]["paid"] > 0
    assert (balanced, verified) == ("true", "true")
    funnel = list(report["funnel"].values())
    assert funnel == sorted(funnel, reverse=True)  # each stage keeps some of the one before
    # Each case the population brings is refused or rejected by the system, with its code.
    kinds = Counter(a.kind for a in build(APPLICANTS, SEED))
    for kind, code in EXPECTED_CODE.items():
        assert report["refusals"].get(code, 0) == kinds[kind], code
    assert report["refusals"].get("KK_LIMIT_REACHED", 0) >= min(1, kinds[Kind.SHARED_KK])
    assert sum(report["provinces"][code]["applied"] for code in report["provinces"]) == APPLICANTS
    usage = json.loads((run / "usage.json").read_text())
    assert usage["api_requests"]["POST /v1/applicants"] == APPLICANTS
    assert usage["functions"] and usage["workflows"] and usage["after_registration"]
    assert "<svg" in (run / "funnel.html").read_text()
