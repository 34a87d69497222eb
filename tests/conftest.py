"""The test run's shape: `make test` runs two workers (pytest-xdist, `--dist loadgroup`), and each
test package stays whole on one worker, so that a package's runtime (tests/e2e*, tests/loadtest)
or session synths (tests/infra) are made once, while another package runs beside it."""

from __future__ import annotations

import pytest

TESTS = "tests"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.nodeid.split("/")
        package = parts[1] if len(parts) > 2 and parts[0] == TESTS else "root"
        item.add_marker(pytest.mark.xdist_group(package))
