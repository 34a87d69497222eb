"""A runtime of its own: these tests make waves, a payout run and a failed payout, and read
them back with tools/ops.py; other packages' counts and lists stay as they expect."""

from tests.e2e.conftest import api, cloud

__all__ = ["api", "cloud"]
