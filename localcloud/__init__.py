"""Runs the stack without AWS: moto for the services, worker processes for Lambda code.

Kept import-light (`LocalCloud` is loaded lazily) because every Lambda worker process
imports this package when it starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localcloud.runtime import LocalCloud

__all__ = ["LocalCloud"]


def __getattr__(name: str) -> Any:
    if name == "LocalCloud":
        from localcloud.runtime import LocalCloud  # noqa: PLC0415 - workers must not load moto

        return LocalCloud
    raise AttributeError(name)
