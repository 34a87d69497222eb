"""Lambda SnapStart (the API functions, docs/architecture.md): the runtime snapshots a function's
memory once its handler module is imported, and restores that snapshot for each new sandbox.

What the snapshot holds is shared by every sandbox restored from it. So a handler's import makes
no AWS client and no connection (prakerja.adapters.aws makes them at first use), and after a
restore ``after_restore`` gives the process a fresh random state (the retries' jitter: restored
sandboxes must not back off in step) and forgets any client made before the snapshot.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from prakerja.adapters import aws


def after_restore() -> None:
    random.seed()  # from os.urandom: each restored sandbox its own sequence
    aws.forget()


def register(hook_library: Callable[[Callable[[], None]], Any] | None = None) -> bool:
    """Registers ``after_restore`` with the runtime's hook library (snapshot_restore_py's
    register_after_restore, in the managed Python runtimes); False where there is none (tests,
    the local runtime)."""
    if hook_library is None:
        try:
            from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]  # noqa: PLC0415
        except ImportError:
            return False
        hook_library = register_after_restore
    hook_library(after_restore)
    return True
