"""The published draw of a wave (``GET /v1/waves/{wave_id}/draw``), page by page.

The pages are the selection workflow's files (``files.draw_page_key``); a ``next_token`` names
the next file as ``<shard>.<page>``. Nothing here is personal data: participant ids are the
applicants' opaque ids, which only each applicant knows to be theirs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel

from prakerja.errors import Conflict, ValidationFailed
from prakerja.selection import files
from prakerja.selection.draw import ALGORITHM
from prakerja.selection.ports import ObjectStore
from prakerja.waves.models import PARTICIPANT_SHARDS, WaveStatus
from prakerja.waves.ports import WaveNotFound, WaveRepository

_TOKEN = re.compile(r"^(\d{1,2})\.(\d{1,6})$")


class DrawRow(BaseModel):
    participant_id: str
    province_code: str
    priority: bool
    eligible: bool
    key: str
    selected: bool


class DrawPage(BaseModel):
    wave_id: str
    algorithm: str
    seed: str
    seed_commitment: str
    quota_total: int
    quotas: dict[str, int]
    participants: list[DrawRow]
    next_token: str | None


class DrawNotPublished(Conflict):
    def __init__(self) -> None:
        super().__init__("DRAW_NOT_PUBLISHED", "The wave's draw is published once its selection has finished.")


def _invalid_token() -> ValidationFailed:
    return ValidationFailed("NEXT_TOKEN_INVALID", "next_token is not one this API issued.")


def _parse_token(token: str | None) -> tuple[int, int]:
    if token is None:
        return 0, 0
    match = _TOKEN.match(token)
    if not match or int(match[1]) >= PARTICIPANT_SHARDS:
        raise _invalid_token()
    return int(match[1]), int(match[2])


class PublishedDraw:
    def __init__(self, waves: WaveRepository, store: ObjectStore) -> None:
        self._waves = waves
        self._store = store

    def page(self, wave_id: str, next_token: str | None) -> DrawPage:
        wave = self._waves.get(wave_id)
        if wave is None:
            raise WaveNotFound()
        if wave.status is not WaveStatus.SELECTED or wave.seed is None:
            raise DrawNotPublished()
        shard, page = _parse_token(next_token)
        rows: list[dict[str, Any]] = []
        following: str | None = None
        while True:  # skip the empty shards: a page holds participants unless the draw has none
            data = self._store.get(files.draw_page_key(wave_id, shard, page))
            if data is None:
                raise _invalid_token()
            stored = json.loads(data)
            rows = stored["participants"]
            if not stored["last"]:
                following = f"{shard}.{page + 1}"
            elif shard + 1 < PARTICIPANT_SHARDS:
                following = f"{shard + 1}.0"
            else:
                following = None
            if rows or following is None:
                break
            shard, page = shard + 1, 0
        return DrawPage(
            wave_id=wave.wave_id,
            algorithm=ALGORITHM,
            seed=wave.seed,
            seed_commitment=wave.seed_commitment,
            quota_total=wave.quota_total,
            quotas=wave.quotas,
            participants=[DrawRow.model_validate(row) for row in rows],
            next_token=following,
        )
