"""A runtime of its own: the load test registers dozens of applicants and draws a wave, which
would disturb the other packages' counts of profiles, waves and outbox messages."""

from tests.e2e.conftest import api, cloud

__all__ = ["api", "cloud"]
