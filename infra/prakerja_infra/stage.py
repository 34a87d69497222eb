"""Per-environment settings. Program rules are not here (they are data in the shared layer);
this is only what differs between dev, staging and prod."""

from __future__ import annotations

from typing import Literal

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

StageName = Literal["dev", "staging", "prod"]


class StageConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: StageName
    # Steady rate and burst of the API stage. Prod is sized for the 2020 launch peak of
    # ~80,000 registrations a minute (~1,300/s) with headroom.
    api_rate_limit: int = Field(gt=0)
    api_burst_limit: int = Field(gt=0)
    # WAF per-IP limit over 5 minutes: a person registers once, a NAT'd campus many times.
    waf_requests_per_ip_per_5min: int = Field(ge=100)
    log_retention_days: Literal[14, 30, 365]
    # Tables and keys survive a stack deletion everywhere but dev.
    retain_data: bool
    civil_registry_url: HttpUrl
    # The payment partners' APIs, each at <url>/<provider> (sandboxes outside prod).
    payment_partners_url: HttpUrl
    # How long a transfer waits for the partner's callback before the workflow asks the partner.
    payout_callback_timeout_seconds: int = Field(default=900, ge=1)
    lambda_memory_mb: int = 1024
    # The selection steps hold a shard (or, merging, every shard's 19-byte summaries) in memory.
    selection_memory_mb: int = 2048


STAGES: dict[str, StageConfig] = {
    "dev": StageConfig(
        name="dev",
        api_rate_limit=50,
        api_burst_limit=100,
        waf_requests_per_ip_per_5min=2000,
        log_retention_days=14,
        retain_data=False,
        civil_registry_url=HttpUrl("https://dukcapil-sandbox.example.go.id/api/v1"),
        payment_partners_url=HttpUrl("https://payments-sandbox.example.prakerja.go.id/v1"),
    ),
    "staging": StageConfig(
        name="staging",
        api_rate_limit=2000,
        api_burst_limit=4000,
        waf_requests_per_ip_per_5min=100000,
        log_retention_days=30,
        retain_data=False,
        civil_registry_url=HttpUrl("https://dukcapil-sandbox.example.go.id/api/v1"),
        payment_partners_url=HttpUrl("https://payments-sandbox.example.prakerja.go.id/v1"),
    ),
    "prod": StageConfig(
        name="prod",
        api_rate_limit=5000,
        api_burst_limit=10000,
        # Mobile carriers put many applicants behind one address (CGNAT): the per-IP limit
        # stops scripted abuse, not a busy carrier gateway.
        waf_requests_per_ip_per_5min=5000,
        log_retention_days=365,
        retain_data=True,
        civil_registry_url=HttpUrl("https://dukcapil.example.go.id/api/v1"),
        payment_partners_url=HttpUrl("https://payments.example.prakerja.go.id/v1"),
    ),
}


def stage_config(name: str) -> StageConfig:
    try:
        return STAGES[name]
    except KeyError:
        raise ValueError(f"unknown stage {name!r}; expected one of {sorted(STAGES)}") from None


def log_retention(stage: StageConfig) -> logs.RetentionDays:
    return _RETENTION[stage.log_retention_days]


def removal_policy(stage: StageConfig) -> RemovalPolicy:
    """Data, keys and logs survive a stack deletion everywhere but dev."""
    return RemovalPolicy.RETAIN if stage.retain_data else RemovalPolicy.DESTROY


_RETENTION = {14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH, 365: logs.RetentionDays.ONE_YEAR}
