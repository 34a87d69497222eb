"""Per-environment settings. Program rules are not here (they are data in the shared layer);
this is only what differs between dev, staging and prod."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, model_validator

from prakerja.config import ORIGIN_PATTERN

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


# The region the programme runs in (Jakarta); SES and the quotas below are looked up there.
HOME_REGION = "ap-southeast-3"
# API Gateway's default account-level throttle in ap-southeast-3, every API and stage of the
# account together (smaller regions get 2,500 requests/s, not the 10,000 of the large ones).
DEFAULT_ACCOUNT_API_RATE = 2500
DEFAULT_ACCOUNT_API_BURST = 5000

_EMAIL = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"
_E164 = r"^\+[1-9][0-9]{7,14}$"


class AlarmSubscribers(BaseModel):
    """Who the stage's alarm topic notifies (docs/deploy.md: each confirms its subscription)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    emails: tuple[Annotated[str, StringConstraints(pattern=_EMAIL)], ...] = ()
    sms: tuple[Annotated[str, StringConstraints(pattern=_E164)], ...] = ()
    # HTTPS endpoints that take SNS's POSTs: a chat webhook (Slack or Teams through a relay).
    webhooks: tuple[HttpUrl, ...] = ()

    @model_validator(mode="after")
    def _webhooks_are_https(self) -> AlarmSubscribers:
        if any(url.scheme != "https" for url in self.webhooks):
            raise ValueError("alarm webhooks must be https")
        return self

    def __bool__(self) -> bool:
        return bool(self.emails or self.sms or self.webhooks)


class EmailSender(BaseModel):
    """Cognito's sign-up and recovery codes sent through SES from a verified identity of the
    home region (docs/deploy.md: verifying the domain, leaving the SES sandbox)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    from_address: Annotated[str, StringConstraints(pattern=_EMAIL)]
    from_name: str = "Kartu Prakerja"
    reply_to: Annotated[str, StringConstraints(pattern=_EMAIL)] | None = None
    # The SES identity verified in the region: the sender's domain (or the address itself).
    verified_domain: str = Field(pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$")

    @model_validator(mode="after")
    def _address_in_domain(self) -> EmailSender:
        if not self.from_address.endswith("@" + self.verified_domain):
            raise ValueError("the sender's address must be in its verified domain")
        return self


class StageConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: StageName
    # Steady rate and burst of the API stage, which API Gateway applies to each method on its
    # own (route_limits override it for their routes). Prod is sized for the 2020 launch peak
    # of ~80,000 registrations a minute (~1,300/s) with headroom, within the account's quota.
    api_rate_limit: int = Field(gt=0)
    api_burst_limit: int = Field(gt=0)
    # What the account has (API Gateway's account throttle in the region): a stage limit above it
    # would never apply. Raise these only once AWS has granted the increase (docs/deploy.md).
    account_api_rate_limit: int = Field(default=DEFAULT_ACCOUNT_API_RATE, gt=0)
    account_api_burst_limit: int = Field(default=DEFAULT_ACCOUNT_API_BURST, gt=0)
    # The browser origins of the web apps that call the API (CORS), the first one the primary.
    web_origins: tuple[Annotated[str, StringConstraints(pattern=ORIGIN_PATTERN)], ...] = Field(min_length=1)
    alarm_subscribers: AlarmSubscribers = AlarmSubscribers()
    # None: Cognito's built-in e-mail (a few dozen a day, for dev only).
    email_sender: EmailSender | None = None
    # The functions that call partners leave from fixed addresses (a VPC, NAT gateways with Elastic
    # IPs: constructs/egress.py), for partners that allowlist their callers.
    fixed_egress: bool = False
    # The SMS sender ID, registered for Indonesia (docs/deploy.md) before prod texts anyone.
    sms_sender_id: str = Field(default="PRAKERJA", pattern=r"^[A-Za-z0-9]{1,11}$")
    # WAF per-IP limit over 5 minutes: a person registers once, a NAT'd campus many times.
    waf_requests_per_ip_per_5min: int = Field(ge=100)
    # Lower limits for the routes worth probing or costly to answer.
    route_limits: RouteLimits
    log_retention_days: Literal[14, 30, 365]
    # Tables and keys survive a stack deletion everywhere but dev.
    retain_data: bool
    # How long a transfer waits for the partner's callback before the workflow asks the partner.
    payout_callback_timeout_seconds: int = Field(default=900, ge=1)
    lambda_memory_mb: int = 1024
    # SnapStart on the API functions' published versions: a cold start restores the imported
    # handler instead of importing it (billed per snapshot cached and per restore).
    snap_start: bool = True
    # The selection steps hold a shard (or, merging, every shard's 19-byte summaries) in memory.
    selection_memory_mb: int = 2048

    @model_validator(mode="after")
    def _within_the_account(self) -> StageConfig:
        if self.api_rate_limit > self.account_api_rate_limit or self.api_burst_limit > self.account_api_burst_limit:
            raise ValueError(
                f"{self.name}: the stage's throttle ({self.api_rate_limit}/s, burst {self.api_burst_limit}) is above "
                f"the account's ({self.account_api_rate_limit}/s, burst {self.account_api_burst_limit}); request the "
                "quota increase first (docs/deploy.md)"
            )
        return self

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
        # A version published without a snapshot: quicker deploys, nothing billed for snapshots.
        snap_start=False,
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
        web_origins=("http://localhost:5173", "http://127.0.0.1:5173"),
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
        web_origins=("https://staging.prakerja.example",),
    ),
    "prod": StageConfig(
        name="prod",
        # The account's default in Jakarta; with the increase granted (docs/deploy.md: 10,000/s),
        # raise account_api_rate_limit and this together.
        api_rate_limit=2500,
        api_burst_limit=5000,
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
        web_origins=("https://www.prakerja.example",),
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
    """Data, keys and logs survive a stack deletion everywhere but dev. Retained except on create:
    a first deploy that rolls back deletes what it made, so that the next one does not fail on a
    fixed name that "already exists" (the partners' secrets, the workflows' log groups)."""
    return RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE if stage.retain_data else RemovalPolicy.DESTROY


_RETENTION = {14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH, 365: logs.RetentionDays.ONE_YEAR}
