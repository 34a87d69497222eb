"""The selection workflow's step inputs (execution data: ids and counts, no personal data)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from prakerja.waves.models import PARTICIPANT_SHARDS


class WaveStep(BaseModel):
    model_config = ConfigDict(extra="ignore")

    wave_id: str = Field(min_length=1, max_length=64)


class ShardStep(WaveStep):
    shard: int = Field(ge=0, lt=PARTICIPANT_SHARDS)


class AppliedShard(BaseModel):
    shard: int
    participants: int
    eligible: int
    selected: int
    written: int


class PublishStep(WaveStep):
    applied: list[AppliedShard]
