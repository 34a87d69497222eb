"""A runtime of its own: these tests inject payment partner faults and move the application
clock forward, which would disturb every other test's payouts and deadlines."""

from tests.e2e.conftest import api, cloud

__all__ = ["api", "cloud"]
