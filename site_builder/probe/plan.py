"""`probe plan`: which servers this probe's next run covers.

Every enabled server in the store should be measured by each probe at least every
`every_days` days. The plan lists the servers that are due (never measured by this probe,
or last measured longer ago than that), servers with pages first (enabled and not retired:
the rule of sites/bestvpnserver/queries.py), then the longest unmeasured first, and cuts
the list at the run's time budget (`budget_s`, at `per_server_s` seconds a server and
protocol). Servers not due are left for later runs. Only servers the probe has a target for
(a tunnel profile) can be measured: the plan names the rest as "no target".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from site_builder.db.models import VpnServer, VpnServerProbeLatest
from site_builder.probe.config import Target


@dataclass(frozen=True)
class Planned:
    provider: str
    hostname: str
    has_page: bool
    last_measured: datetime | None
    protocols: tuple[str, ...]  # the target's protocols on this probe


@dataclass
class Plan:
    servers: list[Planned] = field(default_factory=list)  # in the order to measure
    over_budget: int = 0  # due, but past this run's time budget
    without_target: list[tuple[str, str]] = field(default_factory=list)
    not_due: int = 0

    def selection(self) -> set[tuple[str, str]]:
        return {(s.provider, s.hostname) for s in self.servers}


def make_plan(
    engine: Engine,
    probe: str,
    targets: list[Target],
    *,
    every_days: float = 7,
    budget_s: float = 3600,
    per_server_s: float = 60,
    now: datetime | None = None,
) -> Plan:
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=every_days)
    protocols: dict[tuple[str, str], list[str]] = {}
    for target in targets:
        protocols.setdefault((target.provider, target.hostname.lower()), []).append(target.protocol)
    latest = (
        select(
            VpnServerProbeLatest.server_id, func.max(VpnServerProbeLatest.started_at).label("at")
        )
        .where(VpnServerProbeLatest.probe_id == probe)
        .group_by(VpnServerProbeLatest.server_id)
        .subquery()
    )
    query = (
        select(VpnServer.provider_slug, VpnServer.hostname, VpnServer.status, latest.c.at)
        .outerjoin(latest, latest.c.server_id == VpnServer.id)
        .where(VpnServer.enabled.is_(True))
    )
    plan = Plan()
    due: list[Planned] = []
    with engine.connect() as connection:
        for provider, hostname, status, at in connection.execute(query):
            if at is not None and at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            if at is not None and at >= cutoff:
                plan.not_due += 1
                continue
            key = (provider, hostname.lower())
            if key not in protocols:
                plan.without_target.append((provider, hostname))
                continue
            due.append(Planned(provider, hostname, status != "retired", at, tuple(protocols[key])))
    oldest = datetime.min.replace(tzinfo=UTC)
    due.sort(key=lambda p: (not p.has_page, p.last_measured or oldest, p.provider, p.hostname))
    spent = 0.0
    for planned in due:
        cost = per_server_s * len(planned.protocols)
        if spent + cost > budget_s:
            plan.over_budget += 1
            continue
        spent += cost
        plan.servers.append(planned)
    plan.without_target.sort()
    return plan
