"""The test run's shape: `make test` runs two workers (pytest-xdist, `--dist loadgroup`), and each
test package stays whole on one worker, so that a package's runtime (tests/e2e*, tests/loadtest)
or session synths (tests/infra) are made once, while another package runs beside it.

The hook runs first (`tryfirst`): xdist's own hook turns the `xdist_group` mark into the group it
schedules by, and must find the mark there."""

from __future__ import annotations

import pytest

TESTS = "tests"


def package_of(nodeid: str) -> str:
    """`tests/e2e_ops/test_ops_cli.py::test_x` -> `e2e_ops`; a test outside a package -> `tests`."""
    parts = nodeid.split("::", 1)[0].split("/")
    return parts[1] if len(parts) > 2 and parts[0] == TESTS else TESTS


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.xdist_group(package_of(item.nodeid)))
