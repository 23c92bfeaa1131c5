"""What the bestvpnserver page kinds share: the dataset, breadcrumbs, the server table's rows,
the listing context of a group of servers (provider, country, city, protocol) and its
structured data.

A page exists only when it has data of its own (see `QualityGate`).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from site_builder.config import SiteConfig
from site_builder.render.charts import Series, line_chart
from site_builder.render.environment import day_text, mbps, ms
from site_builder.render.page import Breadcrumb, Page
from site_builder.sites.bestvpnserver.facts import ProviderFacts
from site_builder.sites.bestvpnserver.figures import DailyFigures, ProtocolFigures, ProtocolServers
from site_builder.sites.bestvpnserver.inventory import Inventory
from site_builder.sites.bestvpnserver.model import LatencyRankings, QualityGate, summary

HOME = Breadcrumb("Home", "/")


PROVIDERS = Breadcrumb("Providers", "/providers/")


COUNTRIES = Breadcrumb("Countries", "/countries/")


STREAMING = Breadcrumb("Streaming", "/streaming/")


PROTOCOLS = Breadcrumb("Protocols", "/protocols/")


RANKING_URL = "/rankings/fastest-servers/"


RANKING_SIZE = 100


@dataclass(frozen=True)
class Dataset:
    stats: list[dict[str, Any]]  # every listed server with measured days
    ranked: list[dict[str, Any]]  # those passing the gate, fastest first
    rank: dict[int, int]  # server id -> its place in `ranked`
    paged: frozenset[int]  # servers with a page of their own (enough runs)
    paged_servers: list[dict[str, Any]]  # their statistics, by server id (see server_pages)
    city_pages: frozenset[tuple[str, str]]  # (country, city) slugs of the cities with a page
    newest: date
    probes: list[dict[str, Any]]
    protocols: list[dict[str, Any]]
    platforms: list[dict[str, Any]]
    latency: LatencyRankings  # lowest latency per probe, over all servers and per place
    daily: DailyFigures  # every server's daily medians, for its page and group charts
    by_protocol: ProtocolFigures  # every server's runs and medians per protocol
    streaming: dict[int, list[dict[str, Any]]]  # server -> latest checks
    gate: QualityGate
    status: dict[str, Any] | None = None  # the public status page's (ops.public)
    inventory: Inventory | None = None  # the providers' server lists (pull servers)
    # editors' facts per provider slug (facts.py) and each provider's website links
    provider_facts: dict[str, ProviderFacts] = field(default_factory=dict)
    provider_links: dict[str, dict[str, str | None]] = field(default_factory=dict)


def day_lastmod(day: date) -> datetime:
    """The end of the last day with data: lastmod moves only when data does."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def group_by(items: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        groups[item[key]].append(item)
    return dict(sorted(groups.items()))


def figures_chart(data: Dataset, title: str, stats: list[dict[str, Any]]) -> Any:
    series = data.daily.medians(s["id"] for s in stats)
    return line_chart(
        title,
        [Series("median download", [(d, v * 8 / 1e6) for d, v in series])],
        unit=lambda v: f"{v:,.0f} Mbit/s",
        caption="Median over servers of each day's median download, in Mbit/s.",
    )


def history_charts(data: Dataset, heading: str, stats: list[dict[str, Any]]) -> list[Any]:
    """A group's upload and latency history beside its download chart: per day, the median
    over its servers of their daily medians (the same rollups as the download chart). A
    chart with fewer than two days of data is left out (`line_chart` draws nothing)."""
    ids = [s["id"] for s in stats]
    uploads = data.daily.medians(ids, "uploads")
    latencies = data.daily.medians(ids, "latencies")
    charts = [
        line_chart(
            f"Median upload, {heading}",
            [Series("median upload", [(d, v * 8 / 1e6) for d, v in uploads])],
            unit=lambda v: f"{v:,.0f} Mbit/s",
            caption="Median over servers of each day's median upload, in Mbit/s.",
        ),
        line_chart(
            f"Median latency, {heading}",
            [Series("median latency", latencies)],
            unit=lambda v: f"{v:,.0f} ms",
            caption="Median over servers of each day's median latency, in ms (lower is better).",
        ),
    ]
    return [chart for chart in charts if chart]


ROW_FIELDS = (
    "url",
    "hostname",
    "provider_slug",
    "provider_name",
    "country_name",
    "city_name",
    "runs",
    "success_rate",
    "download_median_bps",
    "upload_median_bps",
    "latency_median_ms",
)


def server_rows(
    servers: list[dict[str, Any]], data: Dataset, fields: tuple[str, ...] = ROW_FIELDS
) -> list[dict[str, Any]]:
    """Servers as table rows: only the fields the table shows, and whether the server has a
    page, so a page's input key (and the work of shipping it to a render process) does
    not depend on data it does not show."""
    return [
        {**{field: s[field] for field in fields}, "has_page": s["id"] in data.paged}
        for s in servers
    ]


# The top of a group's ranking is taken with a heap, not a sort of the whole group: the
# largest groups (a protocol's servers) hold nearly every server, and a page shows 100.
def top_ranked_in(data: Dataset, stats: list[dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
    """How many of `stats` are ranked, and the first `RANKING_SIZE` of them, fastest first."""
    rank = data.rank
    ranked = [s for s in stats if s["id"] in rank and s["download_median_bps"] is not None]
    top = heapq.nsmallest(
        RANKING_SIZE, ranked, key=lambda s: (-s["download_median_bps"], rank[s["id"]])
    )
    return len(ranked), top


def top_ranked_over(data: Dataset, over: ProtocolServers) -> tuple[int, list[int]]:
    """How many of `over` are ranked, and the first `RANKING_SIZE` of them (their indexes in
    it), fastest first by their figures over its protocol."""
    rank = data.rank
    ranked = [
        (-download, rank[s["id"]], index)
        for index, (s, download) in enumerate(zip(over.servers, over.downloads, strict=True))
        if download is not None and s["id"] in rank
    ]
    return len(ranked), [index for _, _, index in heapq.nsmallest(RANKING_SIZE, ranked)]


def item_list_ld(name: str, site: SiteConfig, servers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@type": "ItemList",
        "name": name,
        "numberOfItems": len(servers),
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": i,
                "name": f"{s['hostname']} ({s['provider_name']})",
                "url": site.base_url + s["url"],
            }
            for i, s in enumerate(servers, start=1)
        ],
    }


def listing_context(
    data: Dataset,
    site: SiteConfig,
    *,
    kind: str,
    url: str,
    heading: str,
    title: str,
    lede: str,
    stats: list[dict[str, Any]] | ProtocolServers,
    crumbs: tuple[Breadcrumb, ...],
    links: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> Page:
    """A group's page; `stats` is the group's servers, or those measured over a protocol."""
    figures = summary(stats, data.newest, data.gate)
    top: list[Any]
    if isinstance(stats, ProtocolServers):
        ranked_count, order = top_ranked_over(data, stats)
        top = [stats.view(index) for index in order]
        stats = stats.servers
    else:
        ranked_count, top = top_ranked_in(data, stats)
    return Page(
        kind=kind,
        url=url,
        template="bestvpnserver/listing.html",
        title=title,
        description=(
            f"{lede} {figures['servers']:,} servers, {figures['runs']:,} measured runs from"
            f" {day_text(figures['first_day'], year=False)} to {day_text(figures['last_day'])};"
            " median download"
            f" {mbps(figures['download_median_bps'])}, latency {ms(figures['latency_median_ms'])}."
        ),
        context={
            "heading": heading,
            "lede": lede,
            "figures": figures,
            "servers": server_rows(top, data),
            "unranked": len(stats) - ranked_count,
            "gate": data.gate,
            "chart": figures_chart(data, f"Median download, {heading}", stats),
            "history_charts": history_charts(data, heading, stats),
            "links": links or [],
            **(extra or {}),
        },
        lastmod=day_lastmod(figures["last_day"]),
        breadcrumbs=crumbs,
        json_ld=(item_list_ld(heading, site, top),) if top else (),
    )


def protocols_with_pages(data: Dataset, stats: list[dict[str, Any]]) -> list[str]:
    """The protocols measured on enough of these servers for a page of their own."""
    return [
        p["slug"]
        for p in data.protocols
        if data.by_protocol.count(p["slug"], stats) >= data.gate.min_servers
    ]


def protocol_links(data: Dataset, prefix: str, slugs: list[str]) -> dict[str, Any]:
    names = {p["slug"]: p["name"] for p in data.protocols}
    return {
        "title": "By protocol",
        "items": [
            {"name": names[slug], "url": f"{prefix}protocols/{slug}/", "linked": True}
            for slug in slugs
        ],
    }


def hub_table_rows(
    data: Dataset, groups: list[tuple[str, str, list[dict[str, Any]] | ProtocolServers]]
) -> list[dict[str, Any]]:
    """A hub's rows: name, URL and figures per group of servers (or of servers measured
    over a protocol)."""
    return [
        {"name": name, "url": url, "figures": summary(stats, data.newest, data.gate)}
        for name, url, stats in groups
    ]
