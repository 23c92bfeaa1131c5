"""Each source's newest data against its freshness rule.

Sources, and what "newest" means for each:

- a GPU **provider**: its newest accepted price (`gpu_offers.last_seen_at`, the time the
  provider's answer was fetched). Only providers the pull tries are checked: one whose
  newest pull run was `skipped` (no credentials) is not. A tried provider with no accepted
  price at all breaks its rule;
- a **probe** (every location in the reference data): the newest record of its batches
  (`vpn_ingested_batches.last_record_at`), the time measured, not the time ingested, so a
  probe re-sending old batches still counts as stale. A probe with no batch breaks its rule;
- a VPN provider's **server list**: its newest *successful* list pull
  (`vpn_server_list_runs.listed_at` with status `ok`). Only providers the pull tries are
  checked: one whose newest list run was `skipped` (no login, as Proton without one) is not.
  A failed or quarantined list keeps the previous inventory, so this rule turns only when
  lists have failed for several nights (each failure is also a problem of its own that night);
- the **server agents**: each registered agent (`vpn_agents`, from the reference data) and
  each server that ever sent a heartbeat, unless retired; an agent whose server never sent
  one is silent from the start. The source is stale when any agent is, and names them;
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
    VpnProvider,
    VpnServer,
)
from site_builder.db.models_agents import VpnAgent
from site_builder.db.models_gpu_request import GpuOfferOnRequest
from site_builder.db.models_runs import OpsFreshness
from site_builder.db.models_servers import VpnServerListRun
from site_builder.ops.rules import FreshnessRules

MAX_NAMED = 20  # stale agents named in a check; the rest are counted

# Which freshness kinds tell about each pull source (see site_builder.sites.SITE_SOURCES).
SOURCE_KINDS = {
    "prices": ("provider",),
    "servers": ("server_list",),
    "measurements": ("probe", "agents"),
}


@dataclass(frozen=True)
class Freshness:
    kind: str  # provider | server_list | probe | agents | deploy
    key: str  # provider slug (GPU or VPN), probe id, "all" (agents), site name (deploy)
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
    """Every source's freshness at `now`: GPU providers, VPN server lists, probes, agents,
    then each site's deploy."""
    return [
        *_providers(connection, rules, now),
        *_server_lists(connection, rules, now),
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


def _server_lists(connection: Connection, rules: FreshnessRules, now: datetime) -> list[Freshness]:
    runs = VpnServerListRun.__table__
    latest_run = (
        select(runs.c.provider_slug, func.max(runs.c.id).label("id"))
        .group_by(runs.c.provider_slug)
        .subquery()
    )
    tried = sorted(
        connection.execute(
            select(runs.c.provider_slug)
            .join(latest_run, runs.c.id == latest_run.c.id)
            .where(runs.c.status != "skipped")
        ).scalars()
    )
    newest = dict(
        connection.execute(
            select(runs.c.provider_slug, func.max(runs.c.listed_at))
            .where(runs.c.status == "ok")
            .group_by(runs.c.provider_slug)
        ).all()
    )
    providers = VpnProvider.__table__
    names = {
        slug: name for slug, name in connection.execute(select(providers.c.slug, providers.c.name))
    }
    checks = []
    for slug in tried:
        if slug in rules.ignore_providers:
            continue
        hours = rules.server_list(slug)
        at = newest.get(slug)
        stale = _is_stale(at, hours, now)
        checks.append(Freshness("server_list", slug, names.get(slug, slug), at, hours, stale))
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
    servers, agents = VpnServer.__table__, VpnAgent.__table__
    hours = rules.defaults.agent_hours
    cutoff = now - timedelta(hours=hours)
    # (hostname, newest heartbeat or None) of every agent: the servers that ever sent a
    # heartbeat, and the registered agents whose server never did (or is not listed yet)
    reported = {
        (provider, hostname): at
        for provider, hostname, at in connection.execute(
            select(servers.c.provider_slug, servers.c.hostname, servers.c.last_heartbeat_at).where(
                servers.c.last_heartbeat_at.is_not(None), servers.c.status != "retired"
            )
        )
    }
    retired = {
        (provider, hostname)
        for provider, hostname in connection.execute(
            select(servers.c.provider_slug, servers.c.hostname).where(servers.c.status == "retired")
        )
    }
    every: dict[tuple[str, str], datetime | None] = dict(reported)
    for provider, hostname in connection.execute(select(agents.c.provider_slug, agents.c.hostname)):
        if (provider, hostname) not in retired:
            every.setdefault((provider, hostname), None)
    if not every:
        return []
    # silent ones first: never reported, then the longest silent; ties by hostname
    silent = sorted(
        ((at, hostname) for (_, hostname), at in every.items() if at is None or at < cutoff),
        key=lambda item: (item[0] is not None, item[0] or now, item[1]),
    )
    names = tuple(
        hostname if at is not None else f"{hostname} (never reported)"
        for at, hostname in silent[:MAX_NAMED]
    )
    newest = max((at for at in every.values() if at is not None), default=None)
    return [
        Freshness(
            "agents",
            "all",
            "Server agents",
            newest,
            hours,
            bool(silent),
            len(every),
            len(silent),
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
