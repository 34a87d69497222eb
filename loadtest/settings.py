"""The run's settings, from environment variables (README, "Load test")."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Settings:
    # "local": the runtime of `make run` (tokens, residents, a wave and recipients are made
    # through /_local and the ops API); "staging": everything comes from the variables below.
    target: Literal["local", "staging"]
    # The synthetic population (loadtest/people.py): the staging registry sandbox must know
    # people seed/first_person, seed/first_person + 1, ...
    seed: str
    first_person: int
    tokens_file: Path | None
    # The open wave that wave joiners join; locally made by the run when unset.
    wave_id: str | None
    # Locally: how many applicants the run makes recipients (selected, with a card) for buyers.
    local_recipients: int
    # How long an applicant waits for the registration workflow's decision.
    decision_timeout_seconds: float

    @classmethod
    def from_env(cls, host: str, env: Mapping[str, str] = os.environ) -> Settings:
        default_target = "local" if urlsplit(host).hostname in LOOPBACK else "staging"
        target = env.get("LOADTEST_TARGET", default_target)
        if target not in ("local", "staging"):
            raise ValueError(f"LOADTEST_TARGET must be local or staging, not {target!r}")
        tokens_file = Path(env["LOADTEST_TOKENS_FILE"]) if env.get("LOADTEST_TOKENS_FILE") else None
        seed = env.get("LOADTEST_SEED")
        if target == "staging" and (tokens_file is None or not seed):
            raise ValueError("against staging, LOADTEST_TOKENS_FILE and LOADTEST_SEED are required (README)")
        return cls(
            target="local" if target == "local" else "staging",
            # A local runtime may outlive a run: a new seed each time gives new people.
            seed=seed or f"local-{time.time_ns()}",
            first_person=int(env.get("LOADTEST_FIRST_PERSON", "0")),
            tokens_file=tokens_file,
            wave_id=env.get("LOADTEST_WAVE_ID") or None,
            local_recipients=int(env.get("LOADTEST_LOCAL_RECIPIENTS", "4")),
            decision_timeout_seconds=float(env.get("LOADTEST_DECISION_TIMEOUT", "120")),
        )
