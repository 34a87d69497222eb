"""NIK builders for unit tests; they live in ``tests.factories`` for reuse elsewhere."""

from __future__ import annotations

from tests.factories import build_kk, build_nik, valid_registration

__all__ = ["build_kk", "build_nik", "valid_registration"]
