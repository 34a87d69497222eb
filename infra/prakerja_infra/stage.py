"""Per-environment settings. Program rules are not here (they are data in the shared layer);
this is only what differs between dev, staging and prod."""

from __future__ import annotations

from typing import Literal

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

StageName = Literal["dev", "staging", "prod"]


class RouteLimit(BaseModel):
    """A route's own limits, below the stage's. API Gateway's method throttle counts every caller
    together: it caps what a flood of that route can cost (table writes, partner inquiries,
    S3 reads). WAF's count is per source address over 5 minutes: it keeps one source from
    probing at that rate, and from taking the route's whole budget from everyone else."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate: int = Field(gt=0)  # requests per second, steady
    burst: int = Field(gt=0)
    per_ip_per_5min: int = Field(ge=100)

    @model_validator(mode="after")
    def _burst_holds_a_second(self) -> RouteLimit:
        if self.burst < self.rate:
            raise ValueError("a burst below the rate would refuse a steady second's requests")
        return self


class RouteLimits(BaseModel):
    """The routes worth probing or costly to answer (constructs/api.py names their paths)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    registration: RouteLimit  # POST /v1/applicants
    assessment: RouteLimit  # POST /v1/applicants/me/assessment
    payout_account: RouteLimit  # PUT /v1/applicants/me/payout-account
    redemption: RouteLimit  # POST /v1/partner/redemptions
    draw: RouteLimit  # GET /v1/waves/{wave_id}/draw


class StageConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: StageName
    # Steady rate and burst of the API stage, which API Gateway applies to each method on its
    # own (route_limits override it for their routes). Prod is sized for the 2020 launch peak
    # of ~80,000 registrations a minute (~1,300/s) with headroom.
    api_rate_limit: int = Field(gt=0)
    api_burst_limit: int = Field(gt=0)
    # WAF per-IP limit over 5 minutes: a person registers once, a NAT'd campus many times.
    waf_requests_per_ip_per_5min: int = Field(ge=100)
    # Lower limits for the routes worth probing or costly to answer.
    route_limits: RouteLimits
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

    @model_validator(mode="after")
    def _route_limits_are_lower(self) -> StageConfig:
        """A route's limit above the stage's would never apply: the stage's would refuse first."""
        for name, limit in self.route_limits:
            if limit.rate > self.api_rate_limit or limit.burst > self.api_burst_limit:
                raise ValueError(f"{name}: the route's throttle is above the stage's")
            if limit.per_ip_per_5min >= self.waf_requests_per_ip_per_5min:
                raise ValueError(f"{name}: the route's per-address limit is not below the stage's")
        return self


STAGES: dict[str, StageConfig] = {
    "dev": StageConfig(
        name="dev",
        api_rate_limit=50,
        api_burst_limit=100,
        waf_requests_per_ip_per_5min=2000,
        # A handful of testers: enough to click through, little to probe with.
        route_limits=RouteLimits(
            registration=RouteLimit(rate=10, burst=20, per_ip_per_5min=300),
            assessment=RouteLimit(rate=10, burst=20, per_ip_per_5min=300),
            payout_account=RouteLimit(rate=5, burst=10, per_ip_per_5min=100),
            redemption=RouteLimit(rate=10, burst=20, per_ip_per_5min=500),
            draw=RouteLimit(rate=10, burst=20, per_ip_per_5min=500),
        ),
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
        # Prod's throttles, so that a rehearsal meets the same 429s; per-address limits stay high
        # because the load generators are a few addresses.
        route_limits=RouteLimits(
            registration=RouteLimit(rate=2000, burst=4000, per_ip_per_5min=50000),
            assessment=RouteLimit(rate=1000, burst=2000, per_ip_per_5min=50000),
            payout_account=RouteLimit(rate=200, burst=400, per_ip_per_5min=20000),
            redemption=RouteLimit(rate=500, burst=1000, per_ip_per_5min=20000),
            draw=RouteLimit(rate=250, burst=500, per_ip_per_5min=20000),
        ),
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
        route_limits=RouteLimits(
            # The launch peak, ~1,300 registrations/s, with 50 % headroom; one carrier address
            # may carry ~3 registrations a second for 5 minutes, a NIK prober no more.
            registration=RouteLimit(rate=2000, burst=4000, per_ip_per_5min=1000),
            # Taken right after registering, retaken after a fail: below the registration peak.
            assessment=RouteLimit(rate=1000, burst=2000, per_ip_per_5min=1000),
            # Each call is an account inquiry at a payment partner (whose answer tells a missing
            # account from a name mismatch); only recipients may call it, once or twice each.
            payout_account=RouteLimit(rate=200, burst=400, per_ip_per_5min=300),
            # Signed partner calls from a few servers per platform, ~10/s per address at most.
            redemption=RouteLimit(rate=500, burst=1000, per_ip_per_5min=3000),
            # Public and paginated (200 participants a page, from S3): an auditor fetching a 6 M
            # wave's 30,000 pages from one address takes under two hours at 1,500 per 5 minutes.
            draw=RouteLimit(rate=250, burst=500, per_ip_per_5min=1500),
        ),
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
