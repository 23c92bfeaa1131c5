"""Freshness rules: how old each source's newest data may be, read from the editor-owned
`data/freshness.toml` (path in `sites.toml` as `paths.freshness_rules`).

The defaults follow the cadence of a nightly job: a source is stale when its newest data is
older than 36 hours, so one late night is tolerated and a missed one is not. Seed 004's
freshness SLA (scrapes every 4 to 8 hours, staleness alerts at 8 to 24 hours) assumed
scrapes several times a day; a nightly pull cannot meet those numbers, so they scale here
to one pull a day. A missing file means the defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from site_builder.datafiles import first_error, read_toml
from site_builder.errors import ConfigError

Hours = Annotated[float, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(_Strict):
    provider_hours: Hours = 36  # newest accepted price per GPU provider
    probe_hours: Hours = 36  # newest batch (its newest record) per probe
    agent_hours: Hours = 36  # newest heartbeat per server agent
    # newest successful list per VPN provider: 84 h is three nightly pulls plus half a day.
    # A failed list keeps the previous inventory and is alerted that same night on its own
    # (server_list_failed), and nothing retires before 30 days, so this rule only has to
    # catch a list that keeps failing.
    server_list_hours: Hours = 84
    deploy_hours: Hours = 36  # newest production deploy per site


class FreshnessRules(_Strict):
    defaults: Defaults = Defaults()
    providers: dict[str, Hours] = {}  # slug -> max age in hours, overriding the default
    probes: dict[str, Hours] = {}
    server_lists: dict[str, Hours] = {}  # VPN provider slug -> max age
    deploys: dict[str, Hours] = {}  # site -> max age
    ignore_providers: tuple[str, ...] = ()  # GPU or VPN providers never checked
    ignore_probes: tuple[str, ...] = ()

    def provider(self, slug: str) -> float:
        return self.providers.get(slug, self.defaults.provider_hours)

    def server_list(self, slug: str) -> float:
        return self.server_lists.get(slug, self.defaults.server_list_hours)

    def probe(self, probe_id: str) -> float:
        return self.probes.get(probe_id, self.defaults.probe_hours)

    def deploy(self, site: str) -> float:
        return self.deploys.get(site, self.defaults.deploy_hours)


def load_rules(path: Path) -> FreshnessRules:
    """The rules in `path`, or the defaults when there is no such file."""
    if not path.is_file():
        return FreshnessRules()
    raw = read_toml(path, "freshness rules")
    try:
        return FreshnessRules.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {first_error(exc)}") from None
