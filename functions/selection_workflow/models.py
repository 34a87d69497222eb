"""The selection workflow's step inputs (execution data: ids and counts, no personal data)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from prakerja.selection.workflow import APPLY_PARTS
from prakerja.waves.models import PARTICIPANT_SHARDS


class WaveStep(BaseModel):
    model_config = ConfigDict(extra="ignore")

    wave_id: str = Field(min_length=1, max_length=64)


class ShardStep(WaveStep):
    shard: int = Field(ge=0, lt=PARTICIPANT_SHARDS)


class ShardPartStep(ShardStep):
    part: int = Field(ge=0)
    parts: int = Field(ge=1, le=APPLY_PARTS)


class AppliedShard(BaseModel):
    shard: int
    part: int
    parts: int
    participants: int
    eligible: int
    selected: int
    written: int


class PublishStep(WaveStep):
    applied: list[AppliedShard]
