"""Wave vocabulary, the ops request to create one, and what is stored."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from prakerja.clock import IsoDateTime
from prakerja.program import load_program
from prakerja.registration.regions import is_known_province

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
# Participants are spread over this many partitions so that a popular wave's joins
# (the 2020 launch: ~1,300 a second) never meet DynamoDB's per-partition write limit.
PARTICIPANT_SHARDS = 64


class WaveStatus(StrEnum):
    OPEN = "OPEN"
    SELECTING = "SELECTING"
    SELECTED = "SELECTED"


class WaveRequest(BaseModel):
    """Body of ``POST /v1/ops/waves``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[StrictStr, Field(min_length=3, max_length=100)]
    opens_at: IsoDateTime
    closes_at: IsoDateTime
    quota_total: Annotated[int, Field(gt=0, le=10_000_000, strict=True)]
    quotas: dict[str, Annotated[int, Field(ge=0, strict=True)]] = Field(default_factory=dict)
    scheme: StrictStr
    seed_commitment: StrictStr

    @field_validator("quotas")
    @classmethod
    def _known_provinces(cls, quotas: dict[str, int]) -> dict[str, int]:
        unknown = sorted(code for code in quotas if not is_known_province(code))
        if unknown:
            raise PydanticCustomError(
                "PROVINCE_UNKNOWN", "Unknown province codes: {codes}", {"codes": ", ".join(unknown)}
            )
        return quotas

    @field_validator("scheme")
    @classmethod
    def _known_scheme(cls, scheme: str) -> str:
        schemes = load_program().schemes
        if scheme not in schemes:
            raise PydanticCustomError("SCHEME_UNKNOWN", "Schemes are: {names}", {"names": ", ".join(sorted(schemes))})
        return scheme

    @field_validator("seed_commitment")
    @classmethod
    def _commitment_shape(cls, commitment: str) -> str:
        if not _SHA256_HEX.match(commitment):
            raise PydanticCustomError("SEED_COMMITMENT_INVALID", "Must be the lowercase hex SHA-256 of the seed")
        return commitment

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.closes_at <= self.opens_at:
            raise PydanticCustomError("WAVE_DATES_INVALID", "closes_at must be after opens_at")
        if sum(self.quotas.values()) > self.quota_total:
            raise PydanticCustomError("QUOTAS_EXCEED_TOTAL", "The provincial quotas add up to more than quota_total")
        return self


class CloseRequest(BaseModel):
    """Body of ``POST /v1/ops/waves/{wave_id}/close``: the seed committed to at creation."""

    model_config = ConfigDict(extra="forbid")

    seed: Annotated[StrictStr, Field(min_length=16, max_length=256)]


def seed_matches(seed: str, commitment: str) -> bool:
    return hmac.compare_digest(hashlib.sha256(seed.encode()).hexdigest(), commitment)


def participant_shard(applicant_id: str) -> int:
    """Stable shard of a participant: the same applicant always lands in the same shard."""
    return int.from_bytes(hashlib.sha256(applicant_id.encode()).digest()[:4], "big") % PARTICIPANT_SHARDS


class ProvinceResult(BaseModel):
    joined: int
    eligible: int
    selected: int


class WaveReport(BaseModel):
    """What a wave's draw gave, per province: written when the result is published."""

    model_config = ConfigDict(frozen=True)

    participants: int
    eligible: int
    selected: int
    provincial_selected: int
    national_selected: int
    provinces: dict[str, ProvinceResult]
    published_at: datetime


@dataclass(frozen=True)
class Wave:
    wave_id: str
    name: str
    opens_at: datetime
    closes_at: datetime
    quota_total: int
    quotas: dict[str, int]
    scheme: str
    seed_commitment: str
    status: WaveStatus
    created_at: datetime
    seed: str | None = None
    closed_at: datetime | None = None
    execution_arn: str | None = None
    report: WaveReport | None = None
    cards_swept_at: datetime | None = None  # when the unused cards were revoked (card deadlines)
    cards_revoked: int | None = None

    def is_open_at(self, moment: datetime) -> bool:
        return self.status is WaveStatus.OPEN and self.opens_at <= moment.astimezone(UTC) < self.closes_at
