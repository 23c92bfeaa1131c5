"""How a price pull behaves: limits, deadlines, retries, the anomaly rule. Defaults are the
nightly's; the CLI overrides the deadlines (`--provider-deadline`, `--deadline`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from site_builder.errors import ConfigError
from site_builder.pull.gpu import fx
from site_builder.pull.gpu.http import RetryPolicy
from site_builder.pull.gpu.pipeline import PriceRules
from site_builder.pull.gpu.store import AnomalyRule

PROVIDER_DEADLINE_S = 300.0
STAGE_DEADLINE_S = 900.0


@dataclass(frozen=True)
class PullSettings:
    rules: PriceRules = field(default_factory=PriceRules)
    inactive_after: timedelta = timedelta(days=2)
    request_timeout_s: float = 30.0  # per connect / read / write (httpx: per operation)
    # One whole response, first byte to last: a server dribbling a byte at a time gets
    # no further than this, and the request is retried.
    response_deadline_s: float = 60.0
    # Everything one provider does (requests, retries, Retry-After waits), from its start.
    provider_deadline_s: float = PROVIDER_DEADLINE_S
    # The whole price fetch: providers still fetching then are given up; what arrived is
    # stored. At 14 providers, 8 at a time, this leaves room for two rounds.
    stage_deadline_s: float = STAGE_DEADLINE_S
    rates_deadline_s: float = 60.0  # the ECB file: storing waits for it (or its failure)
    max_concurrent_providers: int = 8
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    failures_to_open_circuit: int = 3  # consecutive failed runs before a provider is skipped
    circuit_cooldown: timedelta = timedelta(hours=6)  # then one trial run decides
    anomaly: AnomalyRule = field(default_factory=AnomalyRule)
    ecb_url: str | None = fx.ECB_URL  # None: convert with the stored rates only

    def __post_init__(self) -> None:
        for name in (
            "request_timeout_s",
            "response_deadline_s",
            "provider_deadline_s",
            "stage_deadline_s",
            "rates_deadline_s",
        ):
            value = getattr(self, name)
            if not value > 0:
                raise ConfigError(f"price pull: {name} must be a positive number of seconds")
