"""The test run's shape: `make test` runs two workers (pytest-xdist, `--dist loadgroup`), and each
test package stays whole on one worker, so that a package's runtime (tests/e2e*, tests/loadtest)
or session synths (tests/infra) are made once, while another package runs beside it.

The packages are handed out longest first (`COSTLIEST_FIRST`, from `make test`'s durations), so
that no long package starts last and runs alone: xdist hands groups out in the order collected
(with `--no-loadscope-reorder`, which would otherwise sort them by their number of tests).

The hook runs first (`tryfirst`): xdist's own hook turns the `xdist_group` mark into the group it
schedules by, and must find the mark there."""

from __future__ import annotations

import pytest

TESTS = "tests"
# Each package's wall time in `make test`, longest first: each e2e package starts a runtime and
# walks whole journeys on it, the demo runs a programme cycle, infra synthesizes every stage.
COSTLIEST_FIRST = (
    "e2e_privacy",
    "infra",
    "e2e_payouts",
    "simulation",
    "e2e_security",
    "e2e",
    "e2e_ops",
    "loadtest",
    "e2e_deadlines",
    "localcloud",
    "integration",
    "unit",
)


def package_of(nodeid: str) -> str:
    """`tests/e2e_ops/test_ops_cli.py::test_x` -> `e2e_ops`; a test outside a package -> `tests`."""
    parts = nodeid.split("::", 1)[0].split("/")
    return parts[1] if len(parts) > 2 and parts[0] == TESTS else TESTS


def _cost_rank(item: pytest.Item) -> int:
    package = package_of(item.nodeid)
    return COSTLIEST_FIRST.index(package) if package in COSTLIEST_FIRST else len(COSTLIEST_FIRST)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_cost_rank)  # stable: a package's tests keep their order
    for item in items:
        item.add_marker(pytest.mark.xdist_group(package_of(item.nodeid)))
