"""What the API shows of waves."""

from __future__ import annotations

from pydantic import BaseModel

from prakerja.clock import iso
from prakerja.waves.models import Wave, WaveReport, WaveStatus


class WaveView(BaseModel):
    wave_id: str
    name: str
    opens_at: str
    closes_at: str
    quota_total: int
    quotas: dict[str, int]
    scheme: str
    status: WaveStatus
    seed_commitment: str

    @classmethod
    def of(cls, wave: Wave) -> WaveView:
        return cls(
            wave_id=wave.wave_id,
            name=wave.name,
            opens_at=iso(wave.opens_at),
            closes_at=iso(wave.closes_at),
            quota_total=wave.quota_total,
            quotas=wave.quotas,
            scheme=wave.scheme,
            status=wave.status,
            seed_commitment=wave.seed_commitment,
        )


class WaveList(BaseModel):
    items: list[WaveView]
    next_token: str | None = None


class WaveCreated(BaseModel):
    wave_id: str


class Joined(BaseModel):
    status: str
    wave_id: str


class ProvinceCounts(BaseModel):
    joined: int
    eligible: int | None = None  # known once the selection workflow has re-screened
    selected: int | None = None


class WaveResultView(BaseModel):
    """The totals of a published draw."""

    participants: int
    eligible: int
    selected: int
    provincial_selected: int
    national_selected: int
    published_at: str

    @classmethod
    def of(cls, report: WaveReport) -> WaveResultView:
        return cls(
            **report.model_dump(
                include={"participants", "eligible", "selected", "provincial_selected", "national_selected"}
            ),
            published_at=iso(report.published_at),
        )


class WaveSummaryView(WaveView):
    """What ops see of a wave in a list: its execution and, after the draw, its totals."""

    execution_arn: str | None
    closed_at: str | None = None
    result: WaveResultView | None = None

    @classmethod
    def of(cls, wave: Wave) -> WaveSummaryView:
        return cls(
            **WaveView.of(wave).model_dump(),
            execution_arn=wave.execution_arn,
            closed_at=iso(wave.closed_at) if wave.closed_at else None,
            result=WaveResultView.of(wave.report) if wave.report else None,
        )


class WaveSummaryList(BaseModel):
    """``GET /v1/ops/waves``: every wave, newest first."""

    items: list[WaveSummaryView]
    next_token: str | None = None


class WaveStatusView(WaveSummaryView):
    """``GET /v1/ops/waves/{wave_id}``: the wave, its counts per province and its execution."""

    provinces: dict[str, ProvinceCounts]


class SelectionStarted(BaseModel):
    execution_arn: str
