"""Each source's newest data against its freshness rule.

Sources, and what "newest" means for each:

- a GPU **provider**: its newest accepted price (`gpu_offers.last_seen_at`, the time the
  provider's answer was fetched). Only providers the pull tries are checked: one whose
  newest pull run was `skipped` (no credentials) is not. A tried provider with no accepted
  price at all breaks its rule;
- a **probe** (every location in the reference data): the newest record of its batches
  (`vpn_ingested_batches.last_record_at`), the time measured, not the time ingested, so a
  probe re-sending old batches still counts as stale. A probe with no batch breaks its rule;
- the **server agents** (servers that ever sent a heartbeat and are not retired): each
  one's newest heartbeat; the source is stale when any agent is, and names them;
- a site's **deploy**: its newest production deploy. A site never deployed (no Netlify
  token, as in the demo) is shown as such and breaks no rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, select

from site_builder.db.models import (
    GpuOffer,
    GpuProvider,
    GpuPullRun,
    SiteDeploy,
    VpnIngestedBatch,
    VpnProbeLocation,
    VpnServer,
)
from site_builder.db.models_gpu_request import GpuOfferOnRequest
from site_builder.db.models_runs import OpsFreshness
from site_builder.ops.rules import FreshnessRules

MAX_NAMED = 20  # stale agents named in a check; the rest are counted

# Which freshness kinds tell about each pull source (see site_builder.sites.SITE_SOURCES).
SOURCE_KINDS = {"prices": ("provider",), "measurements": ("probe", "agents")}


@dataclass(frozen=True)
class Freshness:
    kind: str  # provider | probe | agents | deploy
    key: str  # provider slug, probe id, "all" (agents), site name (deploy)
    label: str  # the public name
    newest_at: datetime | None
    max_age_hours: float
    stale: bool
    items: int = 1
    stale_items: int = 0
    stale_names: tuple[str, ...] = field(default=())  # agents: the stale ones (some)

    @property
    def name(self) -> str:
        return f"{self.kind} {self.key}"

    def describe(self, now: datetime) -> str:
        """One line: how old the newest data is against the rule."""
        rule = f"rule: {self.max_age_hours:g} h"
        if self.kind == "agents":
            newest = f"{self.items - self.stale_items} of {self.items} agents reporting"
            if self.stale_names:
                more = self.stale_items - len(self.stale_names)
                newest += f"; silent: {', '.join(self.stale_names)}"
                newest += f" and {more} more" if more > 0 else ""
            return f"{newest} ({rule})"
        if self.newest_at is None:
            return f"no data yet ({rule})" if self.kind != "deploy" else "never deployed"
        return f"newest {age(now - self.newest_at)} old ({rule})"


def age(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def evaluate(
    connection: Connection, rules: FreshnessRules, sites: Iterable[str], now: datetime
) -> list[Freshness]:
    """Every source's freshness at `now`: providers, probes, agents, then each site's deploy."""
    return [
        *_providers(connection, rules, now),
        *_probes(connection, rules, now),
        *_agents(connection, rules, now),
        *_deploys(connection, rules, sorted(sites), now),
    ]


def _is_stale(newest: datetime | None, hours: float, now: datetime) -> bool:
    return newest is None or now - newest > timedelta(hours=hours)


def _providers(connection: Connection, rules: FreshnessRules, now: datetime) -> list[Freshness]:
    runs = GpuPullRun.__table__
    latest_run = (
        select(runs.c.provider_slug, func.max(runs.c.id).label("id"))
        .group_by(runs.c.provider_slug)
        .subquery()
    )
    tried = set(
        connection.execute(
            select(runs.c.provider_slug)
            .join(latest_run, runs.c.id == latest_run.c.id)
            .where(runs.c.status != "skipped")
        ).scalars()
    )
    # a provider listing only "price on request" offers is fresh too: those live apart
    newest: dict[str, datetime] = {}
    for table in (GpuOffer.__table__, GpuOfferOnRequest.__table__):
        for slug, at in connection.execute(
            select(table.c.provider_slug, func.max(table.c.last_seen_at)).group_by(
                table.c.provider_slug
            )
        ):
            if at is not None and (slug not in newest or at > newest[slug]):
                newest[slug] = at
    providers = GpuProvider.__table__
    checks = []
    for slug, name in connection.execute(
        select(providers.c.slug, providers.c.name).order_by(providers.c.slug)
    ):
        if slug not in tried or slug in rules.ignore_providers:
            continue
        hours = rules.provider(slug)
        at = newest.get(slug)
        checks.append(Freshness("provider", slug, name, at, hours, _is_stale(at, hours, now)))
    return checks


def _probes(connection: Connection, rules: FreshnessRules, now: datetime) -> list[Freshness]:
    batches = VpnIngestedBatch.__table__
    newest = dict(
        connection.execute(
            select(batches.c.probe_id, func.max(batches.c.last_record_at)).group_by(
                batches.c.probe_id
            )
        ).all()
    )
    probes = VpnProbeLocation.__table__
    checks = []
    for probe_id, name in connection.execute(
        select(probes.c.id, probes.c.name).order_by(probes.c.id)
    ):
        if probe_id in rules.ignore_probes:
            continue
        hours = rules.probe(probe_id)
        at = newest.get(probe_id)
        checks.append(Freshness("probe", probe_id, name, at, hours, _is_stale(at, hours, now)))
    return checks


def _agents(connection: Connection, rules: FreshnessRules, now: datetime) -> list[Freshness]:
    servers = VpnServer.__table__
    hours = rules.defaults.agent_hours
    cutoff = now - timedelta(hours=hours)
    active = (servers.c.last_heartbeat_at.is_not(None), servers.c.status != "retired")
    total, newest = connection.execute(
        select(func.count(), func.max(servers.c.last_heartbeat_at)).where(*active)
    ).one()
    if not total:
        return []
    stale_count = connection.execute(
        select(func.count()).where(*active, servers.c.last_heartbeat_at < cutoff)
    ).scalar_one()
    names = tuple(
        connection.execute(
            select(servers.c.hostname)
            .where(*active, servers.c.last_heartbeat_at < cutoff)
            .order_by(servers.c.last_heartbeat_at, servers.c.hostname)
            .limit(MAX_NAMED)
        ).scalars()
    )
    return [
        Freshness(
            "agents",
            "all",
            "Server agents",
            newest,
            hours,
            stale_count > 0,
            total,
            stale_count,
            names,
        )
    ]


def _deploys(
    connection: Connection, rules: FreshnessRules, sites: list[str], now: datetime
) -> list[Freshness]:
    deploys = SiteDeploy.__table__
    newest = dict(
        connection.execute(
            select(deploys.c.site, func.max(deploys.c.created_at))
            .where(deploys.c.draft.is_(False))
            .group_by(deploys.c.site)
        ).all()
    )
    checks = []
    for site in sites:
        hours = rules.deploy(site)
        at = newest.get(site)
        stale = at is not None and _is_stale(at, hours, now)  # never deployed: no rule broken
        checks.append(Freshness("deploy", site, site, at, hours, stale))
    return checks


def record(connection: Connection, checks: list[Freshness], now: datetime) -> None:
    """Replace the stored evaluation (what the public status pages read) with `checks`."""
    table = OpsFreshness.__table__
    connection.execute(delete(table))
    if checks:
        connection.execute(
            table.insert(),
            [
                {
                    "kind": c.kind,
                    "key": c.key,
                    "label": c.label,
                    "newest_at": c.newest_at,
                    "max_age_hours": c.max_age_hours,
                    "stale": c.stale,
                    "item_count": c.items,
                    "stale_count": c.stale_items,
                    "checked_at": now,
                }
                for c in checks
            ],
        )
