"""A runtime of its own: these tests move the application clock forward, for good, which would
close every other test's waves and deadlines."""

from tests.e2e.conftest import api, cloud

__all__ = ["api", "cloud"]
