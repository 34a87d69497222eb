"""A runtime of its own: fuzzing creates waves, courses, allocations and payout runs with
random values, and the authorization matrix creates applicants that must not see others'."""

from tests.e2e.conftest import api, cloud

__all__ = ["api", "cloud"]
