"""bestvpnserver page kinds: rankings, providers, countries, cities, servers, protocols,
streaming platforms, provider comparisons, tools, and the methodology and open-data pages.

`load` reads everything once per build (rollups, not raw measurements); each kind turns that
dataset into pages. A page exists only when it has data of its own (see `QualityGate`).
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from itertools import combinations
from typing import Any

from markupsafe import Markup
from sqlalchemy import Connection, Engine

from site_builder.build.charts import Series, line_chart
from site_builder.build.datafiles import csv_file, json_file, json_records_file
from site_builder.build.page import Breadcrumb, Page, PageOrThunk
from site_builder.build.parallel import ShardedKind, beside
from site_builder.build.render import date_text, day_text, iso, mbps, ms
from site_builder.build.writer import Content
from site_builder.config import SiteConfig
from site_builder.sites.bestvpnserver import queries, tools
from site_builder.sites.bestvpnserver.model import (
    DailyFigures,
    LatencyRankings,
    ProbeRun,
    ProtocolFigures,
    ProtocolServers,
    QualityGate,
    fastest_first,
    latency_rankings,
    server_stats,
    summary,
)

HOME = Breadcrumb("Home", "/")
PROVIDERS = Breadcrumb("Providers", "/providers/")
COUNTRIES = Breadcrumb("Countries", "/countries/")
STREAMING = Breadcrumb("Streaming", "/streaming/")
PROTOCOLS = Breadcrumb("Protocols", "/protocols/")
RANKING_URL = "/rankings/fastest-servers/"
RANKING_SIZE = 100
STATUS_ORDER = ("unblocked", "originals_only", "blocked", "error")


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


def fingerprint(connection: Connection) -> list[Any]:
    return queries.fingerprint(connection)


def load(connection: Connection, site: SiteConfig, jobs: int = 1) -> Dataset | None:
    """Everything the pages need, over the last `window_days` days with data. With more
    than one job, the lowest-latency rankings and the latest streaming checks are read in
    a second process while this one computes the servers' figures (the largest parts of
    the load, which otherwise keeps one core idle)."""
    servers = queries.listed_servers(connection)
    gate = site.quality
    newest = queries.newest_rollup_day(connection)
    since = newest - timedelta(days=gate.window_days - 1) if newest else None  # the window
    with beside(
        _rankings_and_streaming,
        connection.engine if jobs > 1 else connection,
        servers,
        gate,
        since,
        forked=jobs > 1,
    ) as beside_the_stats:
        measured = server_stats(
            servers,
            queries.daily_rollups(connection, since),
            queries.uptime_means(connection, since),
        )
        stats = measured.stats
        if not stats:
            return None
        reference = queries.reference(connection)
        rankings, streaming = beside_the_stats()
    ranked = fastest_first(stats, gate)
    paged_servers = [s for s in stats if s["runs"] >= gate.min_runs_per_server]
    city_servers = Counter((s["country_slug"], s["city_slug"]) for s in stats if s["city_slug"])
    return Dataset(
        stats=stats,
        ranked=ranked,
        rank={server["id"]: place for place, server in enumerate(ranked)},
        paged=frozenset(s["id"] for s in paged_servers),
        paged_servers=paged_servers,
        city_pages=frozenset(
            city for city, servers in city_servers.items() if servers >= gate.min_servers
        ),
        newest=max(s["last_day"] for s in stats),
        probes=reference["probes"],
        protocols=reference["protocols"],
        platforms=reference["platforms"],
        latency=rankings,
        daily=measured.daily,
        by_protocol=measured.protocols,
        streaming=streaming,
        gate=gate,
    )


def _rankings_and_streaming(
    source: Engine | Connection,
    servers: list[dict[str, Any]],
    gate: QualityGate,
    since: date | None,
) -> tuple[LatencyRankings, dict[int, list[dict[str, Any]]]]:
    """The lowest-latency rankings over the listed servers with measured days in the
    window (those `server_stats` keeps), from the latest runs, and each server's latest
    streaming checks; given an engine, on a connection of its own (in a forked child)."""
    if isinstance(source, Engine):
        source.dispose(close=False)  # the parent's pooled connections stay the parent's
        with source.connect() as connection:
            return _rankings_and_streaming(connection, servers, gate, since)
    measured = queries.measured_server_ids(source, since)
    rankings = latency_rankings(
        queries.latest_runs_by_probe(source),
        _places_of([s for s in servers if s["id"] in measured]),
        min_servers=gate.min_servers,
        size=RANKING_SIZE,
    )
    streaming: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in queries.latest_streaming(source):
        streaming[row["server_id"]].append(row)
    return rankings, dict(streaming)


def _lastmod(day: date) -> datetime:
    """The end of the last day with data: lastmod moves only when data does."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def _places_of(stats: list[dict[str, Any]]) -> dict[int, tuple[str, ...]]:
    """Server id -> the places its latency is ranked in: "<country>", "<country>/<city>"
    and "providers/<provider>"."""
    names: dict[str, str] = {}  # one string per place, shared by its servers
    places = {}
    for s in stats:
        keys = [s["country_slug"], f"providers/{s['provider_slug']}"]
        if s["city_slug"]:
            keys.append(f"{s['country_slug']}/{s['city_slug']}")
        places[s["id"]] = tuple(names.setdefault(key, key) for key in keys)
    return places


def _group(items: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        groups[item[key]].append(item)
    return dict(sorted(groups.items()))


def _chart(data: Dataset, title: str, stats: list[dict[str, Any]]) -> Any:
    series = data.daily.medians(s["id"] for s in stats)
    return line_chart(
        title,
        [Series("median download", [(d, v * 8 / 1e6) for d, v in series])],
        unit=lambda v: f"{v:,.0f} Mbit/s",
        caption="Median over servers of each day's median download, in Mbit/s.",
    )


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


def _rows(
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
def _top_ranked_in(data: Dataset, stats: list[dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
    """How many of `stats` are ranked, and the first `RANKING_SIZE` of them, fastest first."""
    rank = data.rank
    ranked = [s for s in stats if s["id"] in rank and s["download_median_bps"] is not None]
    top = heapq.nsmallest(
        RANKING_SIZE, ranked, key=lambda s: (-s["download_median_bps"], rank[s["id"]])
    )
    return len(ranked), top


def _top_ranked_over(data: Dataset, over: ProtocolServers) -> tuple[int, list[int]]:
    """How many of `over` are ranked, and the first `RANKING_SIZE` of them (their indexes in
    it), fastest first by their figures over its protocol."""
    rank = data.rank
    ranked = [
        (-download, rank[s["id"]], index)
        for index, (s, download) in enumerate(zip(over.servers, over.downloads, strict=True))
        if download is not None and s["id"] in rank
    ]
    return len(ranked), [index for _, _, index in heapq.nsmallest(RANKING_SIZE, ranked)]


def _item_list(name: str, site: SiteConfig, servers: list[dict[str, Any]]) -> dict[str, Any]:
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


def _listing(
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
        ranked_count, order = _top_ranked_over(data, stats)
        top = [stats.view(index) for index in order]
        stats = stats.servers
    else:
        ranked_count, top = _top_ranked_in(data, stats)
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
            "servers": _rows(top, data),
            "unranked": len(stats) - ranked_count,
            "gate": data.gate,
            "chart": _chart(data, f"Median download, {heading}", stats),
            "links": links or [],
            **(extra or {}),
        },
        lastmod=_lastmod(figures["last_day"]),
        breadcrumbs=crumbs,
        json_ld=(_item_list(heading, site, top),) if top else (),
    )


# ------------------------------------------------------------------------------ kinds


def home_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    figures = summary(data.stats, data.newest, data.gate)
    providers = _group(data.stats, "provider_slug")
    yield Page(
        kind="home",
        url="/",
        template="bestvpnserver/home.html",
        title=f"{site.title}: VPN servers ranked by measured speed and latency",
        description=(
            f"{figures['runs']:,} measured runs of {figures['servers']:,} servers from"
            f" {figures['providers']} VPN providers in {figures['countries']} countries, ranked"
            " by median download speed."
        ),
        context={
            "figures": figures,
            "top": _rows(data.ranked[:10], data),
            "providers": [
                {
                    "name": group[0]["provider_name"],
                    "url": f"/providers/{slug}/",
                    "servers": len(group),
                }
                for slug, group in providers.items()
            ],
            "probes": data.probes,
            "ranking_url": RANKING_URL,
            "chart": _chart(data, "Median download, all servers", data.stats),
        },
        lastmod=_lastmod(figures["last_day"]),
    )


def ranking_pages(data: Dataset, site: SiteConfig) -> Iterator[PageOrThunk]:
    top = data.ranked[:RANKING_SIZE]
    figures = summary(top or data.stats, data.newest, data.gate)
    if top:
        description = (
            f"VPN servers ranked by median download over {figures['runs']:,} probe runs; the"
            f" fastest, {top[0]['hostname']} ({top[0]['provider_name']}), reached"
            f" {mbps(top[0]['download_median_bps'])}."
        )
    else:  # nothing passes the gate yet: the page stays (the menu links it), unindexed
        description = "No VPN server has enough measured runs to be ranked yet."
    yield Page(
        kind="ranking",
        url=RANKING_URL,
        template="bestvpnserver/ranking.html",
        title=f"The {len(top)} fastest VPN servers by measured download speed",
        description=description,
        context={
            "ranked": _rows(top, data),
            "figures": figures,
            "gate": data.gate,
            "unranked": len(data.stats) - len(data.ranked),
            "probes": [p for p in data.probes if p["id"] in data.latency.top],
        },
        lastmod=_lastmod(figures["last_day"]),
        indexable=bool(top),
        breadcrumbs=(HOME, Breadcrumb("Fastest servers", RANKING_URL)),
        json_ld=(_item_list("Fastest VPN servers by median download speed", site, top),)
        if top
        else (),
    )
    by_id = {s["id"]: s for s in data.stats}
    per_place = data.latency.places
    place_names = _place_names(data)
    for probe in data.probes:
        for place, ranked_here in per_place.get(probe["id"], {}).items():
            yield partial(
                _place_latency_page, data, probe, place, place_names[place], ranked_here, by_id
            )
        ranked = data.latency.top.get(probe["id"], [])
        if not ranked:
            continue
        entries = _latency_entries(data, ranked, by_id)
        url = f"/rankings/lowest-latency/{probe['id']}/"
        last = max(r["started_at"] for r in ranked)
        yield Page(
            kind="ranking",
            url=url,
            template="bestvpnserver/latency_ranking.html",
            title=f"Lowest-latency VPN servers from {probe['city']}: top {len(entries)}",
            description=(
                f"The {len(entries)} VPN servers with the lowest latency measured from our probe in"
                f" {probe['city']}; the best, {entries[0]['hostname']}, answered in"
                f" {ms(entries[0]['latency_ms'])}."
            ),
            context={
                "probe": probe,
                "entries": entries,
                "probes": [p for p in data.probes if p["id"] in data.latency.top],
                "country": None,
                "countries": [
                    {"name": place_names[c], "url": f"/rankings/lowest-latency/{probe['id']}/{c}/"}
                    for c in per_place[probe["id"]]
                    if "/" not in c or c.startswith("providers/")
                ],
            },
            lastmod=last,
            breadcrumbs=(HOME, Breadcrumb(f"Lowest latency from {probe['city']}", url)),
            json_ld=(
                _item_list(f"Lowest-latency VPN servers from {probe['city']}", site, entries),
            ),
        )


# What a lowest-latency table shows of a server: only these go into its context, with the
# run's protocol, latency and time, so the ranking pages' input keys do not move with the
# servers' speed figures (and a ranking's 100 entries pickle small).
LATENCY_SERVER_FIELDS = ("url", "hostname", "provider_slug", "provider_name", "country_name")


def _latency_entries(
    data: Dataset, runs: list[ProbeRun], by_id: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    entries = _rows([by_id[run.server_id] for run in runs], data, LATENCY_SERVER_FIELDS)
    for entry, run in zip(entries, runs, strict=True):
        entry["protocol"] = run.protocol
        entry["latency_ms"] = run.latency_ms
        entry["started_at"] = run.started_at
    return entries


def _place_latency_page(
    data: Dataset,
    probe: dict[str, Any],
    place: str,
    name: str,
    ranked_here: list[ProbeRun],
    by_id: dict[int, dict[str, Any]],
) -> Page:
    """The lowest latency from one probe to the servers of one place."""
    entries = _latency_entries(data, ranked_here, by_id)
    url = f"/rankings/lowest-latency/{probe['id']}/{place}/"
    return Page(
        kind="ranking",
        url=url,
        template="bestvpnserver/latency_ranking.html",
        title=f"VPN latency from {probe['city']} to {name}: {len(entries)} servers",
        description=(
            f"Latest latency from our probe in {probe['city']} to {len(entries)} VPN"
            f" servers in {name}; the best, {entries[0]['hostname']}, answered in"
            f" {ms(entries[0]['latency_ms'])}."
        ),
        context={
            "probe": probe,
            "entries": entries,
            "probes": [],
            "country": name,
            "countries": [],
        },
        lastmod=max(r["started_at"] for r in ranked_here),
        breadcrumbs=(
            HOME,
            Breadcrumb(
                f"Lowest latency from {probe['city']}",
                f"/rankings/lowest-latency/{probe['id']}/",
            ),
            Breadcrumb(name, url),
        ),
    )


def _place_names(data: Dataset) -> dict[str, str]:
    names = {}
    for s in data.stats:
        names[s["country_slug"]] = s["country_name"]
        names[f"providers/{s['provider_slug']}"] = f"{s['provider_name']} servers"
        if s["city_slug"]:
            names[f"{s['country_slug']}/{s['city_slug']}"] = (
                f"{s['city_name']}, {s['country_name']}"
            )
    return names


def _provider_page(
    data: Dataset,
    site: SiteConfig,
    slug: str,
    stats: list[dict[str, Any]],
    groups: dict[str, list[dict[str, Any]]],
) -> Page:
    latency = data.latency.places
    name = stats[0]["provider_name"]
    url = f"/providers/{slug}/"
    countries = _group(stats, "country_slug")
    rivals = [
        {
            "name": f"{name} vs {other[0]['provider_name']}",
            "url": "/compare/{}-vs-{}/".format(*sorted((slug, other_slug))),
            "linked": True,
        }
        for other_slug, other in groups.items()
        if other_slug != slug and _shared_countries(stats, other)
    ]
    links = [
        {
            "name": group[0]["country_name"],
            "url": f"/providers/{slug}/{country}/",
            "servers": len(group),
            "linked": len(group) >= data.gate.min_servers,
        }
        for country, group in countries.items()
    ]
    return _listing(
        data,
        site,
        kind="provider",
        url=url,
        heading=f"{name} VPN servers",
        title=(
            f"{name} VPN speed test: {len(stats)} servers in {len(countries)} countries measured"
        ),
        lede=f"How {name}'s VPN servers performed in our probes.",
        stats=stats,
        crumbs=(HOME, PROVIDERS, Breadcrumb(name, url)),
        links=[
            {"title": f"{name} by country", "items": links},
            {"title": f"Compare {name}", "items": rivals},
            _protocol_links(data, url, _protocols_with_pages(data, stats)),
            {
                "title": f"Latency to {name} from our probes",
                "items": [
                    {
                        "name": f"From {p['city']}",
                        "url": f"/rankings/lowest-latency/{p['id']}/providers/{slug}/",
                        "linked": True,
                    }
                    for p in data.probes
                    if f"providers/{slug}" in latency.get(p["id"], {})
                ],
            },
            {
                "title": f"Every {name} server with a page",
                "items": [
                    {"name": s["hostname"], "url": s["url"], "linked": True}
                    for s in sorted(stats, key=lambda s: (s["country_slug"], s["hostname"]))
                    if s["runs"] >= data.gate.min_runs_per_server
                ],
            },
        ],
        extra={"provider": stats[0]},
    )


def provider_pages(data: Dataset, site: SiteConfig) -> Iterator[PageOrThunk]:
    groups = _group(data.stats, "provider_slug")
    hub: list[tuple[str, str, list[dict[str, Any]]]] = []  # name, URL, servers
    for slug, stats in groups.items():
        name = stats[0]["provider_name"]
        url = f"/providers/{slug}/"
        hub.append((name, url, stats))
        yield partial(_provider_page, data, site, slug, stats, groups)
        countries = _group(stats, "country_slug")
        for country, group in countries.items():
            if len(group) < data.gate.min_servers:
                continue
            country_name = group[0]["country_name"]
            yield partial(
                _listing,
                data,
                site,
                kind="provider_country",
                url=f"/providers/{slug}/{country}/",
                heading=f"{name} servers in {country_name}",
                title=f"{name} VPN in {country_name}: {len(group)} servers speed-tested",
                lede=f"{name}'s servers in {country_name}, as our probes measured them.",
                stats=group,
                crumbs=(
                    HOME,
                    PROVIDERS,
                    Breadcrumb(name, url),
                    Breadcrumb(country_name, f"/providers/{slug}/{country}/"),
                ),
                links=[
                    {
                        "title": "See also",
                        "items": [
                            {
                                "name": f"All VPN servers in {country_name}",
                                "url": f"/countries/{country}/",
                                "linked": True,
                            },
                        ],
                    }
                ],
                extra={"provider": group[0]},
            )
            for city, city_group in _group(
                [s for s in group if s["city_slug"]], "city_slug"
            ).items():
                if len(city_group) < data.gate.min_servers:
                    continue
                city_name = city_group[0]["city_name"]
                city_url = f"/providers/{slug}/{country}/{city}/"
                yield partial(
                    _listing,
                    data,
                    site,
                    kind="provider_country",
                    url=city_url,
                    heading=f"{name} servers in {city_name}, {country_name}",
                    title=f"{name} VPN in {city_name}: {len(city_group)} servers speed-tested",
                    lede=f"{name}'s servers in {city_name}, as our probes measured them.",
                    stats=city_group,
                    crumbs=(
                        HOME,
                        PROVIDERS,
                        Breadcrumb(name, url),
                        Breadcrumb(country_name, f"/providers/{slug}/{country}/"),
                        Breadcrumb(city_name, city_url),
                    ),
                    extra={"provider": city_group[0]},
                )

    def provider_hub() -> Page:
        hub_rows = _hub_rows(data, hub)
        return Page(
            kind="provider",
            url="/providers/",
            template="bestvpnserver/hub.html",
            title=f"{len(hub_rows)} VPN providers compared by measured speed and latency",
            description=(
                f"Every VPN provider we measure, with server counts, countries, median download and"
                f" latency over {sum(r['figures']['runs'] for r in hub_rows):,} runs."
            ),
            context={"heading": "VPN providers", "rows": hub_rows, "what": "Provider"},
            lastmod=_lastmod(max(r["figures"]["last_day"] for r in hub_rows)),
            breadcrumbs=(HOME, PROVIDERS),
        )

    yield provider_hub


def _protocols_with_pages(data: Dataset, stats: list[dict[str, Any]]) -> list[str]:
    """The protocols measured on enough of these servers for a page of their own."""
    return [
        p["slug"]
        for p in data.protocols
        if data.by_protocol.count(p["slug"], stats) >= data.gate.min_servers
    ]


def _protocol_links(data: Dataset, prefix: str, slugs: list[str]) -> dict[str, Any]:
    names = {p["slug"]: p["name"] for p in data.protocols}
    return {
        "title": "By protocol",
        "items": [
            {"name": names[slug], "url": f"{prefix}protocols/{slug}/", "linked": True}
            for slug in slugs
        ],
    }


def country_pages(data: Dataset, site: SiteConfig) -> Iterator[PageOrThunk]:
    hub: list[tuple[str, str, list[dict[str, Any]]]] = []  # name, URL, servers
    per_probe = data.latency.places
    for country, stats in _group(data.stats, "country_slug").items():
        name = stats[0]["country_name"]
        url = f"/countries/{country}/"
        hub.append((name, url, stats))
        providers = _group(stats, "provider_slug")
        cities = _group([s for s in stats if s["city_slug"]], "city_slug")
        yield partial(
            _listing,
            data,
            site,
            kind="country",
            url=url,
            heading=f"VPN servers in {name}",
            title=(
                f"Fastest VPN servers in {name}: {len(stats)} servers from {len(providers)}"
                " providers"
            ),
            lede=f"Every VPN server we measure in {name}.",
            stats=stats,
            crumbs=(HOME, COUNTRIES, Breadcrumb(name, url)),
            links=[
                {
                    "title": f"Providers in {name}",
                    "items": [
                        {
                            "name": g[0]["provider_name"],
                            "url": f"/providers/{p}/{country}/",
                            "servers": len(g),
                            "linked": len(g) >= data.gate.min_servers,
                        }
                        for p, g in providers.items()
                    ],
                },
                {
                    "title": f"Latency to {name} from our probes",
                    "items": [
                        {
                            "name": f"From {p['city']}",
                            "url": f"/rankings/lowest-latency/{p['id']}/{country}/",
                            "linked": True,
                        }
                        for p in data.probes
                        if country in per_probe.get(p["id"], {})
                    ],
                },
                _protocol_links(data, url, _protocols_with_pages(data, stats)),
                {
                    "title": f"Cities in {name}",
                    "items": [
                        {
                            "name": g[0]["city_name"],
                            "url": f"/countries/{country}/{c}/",
                            "servers": len(g),
                            "linked": len(g) >= data.gate.min_servers,
                        }
                        for c, g in cities.items()
                    ],
                },
            ],
        )
        for city, group in cities.items():
            if len(group) < data.gate.min_servers:
                continue
            city_name = group[0]["city_name"]
            place = f"{country}/{city}"
            yield partial(
                _listing,
                data,
                site,
                kind="city",
                url=f"/countries/{country}/{city}/",
                heading=f"VPN servers in {city_name}, {name}",
                title=f"VPN servers in {city_name}, {name}: {len(group)} measured",
                lede=f"VPN servers located in {city_name}.",
                stats=group,
                links=[
                    {
                        "title": f"Latency to {city_name} from our probes",
                        "items": [
                            {
                                "name": f"From {p['city']}",
                                "url": f"/rankings/lowest-latency/{p['id']}/{place}/",
                                "linked": True,
                            }
                            for p in data.probes
                            if place in per_probe.get(p["id"], {})
                        ],
                    },
                    {
                        "title": f"Providers in {city_name}",
                        "items": [
                            {
                                "name": g[0]["provider_name"],
                                "url": f"/providers/{ps}/{country}/{city}/",
                                "servers": len(g),
                                "linked": len(g) >= data.gate.min_servers,
                            }
                            for ps, g in _group(group, "provider_slug").items()
                        ],
                    },
                ],
                crumbs=(
                    HOME,
                    COUNTRIES,
                    Breadcrumb(name, url),
                    Breadcrumb(city_name, f"/countries/{country}/{city}/"),
                ),
            )

    def country_hub() -> Page:
        hub_rows = _hub_rows(data, hub)
        return Page(
            kind="country",
            url="/countries/",
            template="bestvpnserver/hub.html",
            title=f"VPN servers in {len(hub_rows)} countries, ranked by measured speed",
            description=(
                "Median download and latency of the VPN servers we measure in each of"
                f" {len(hub_rows)} countries."
            ),
            context={"heading": "Countries", "rows": hub_rows, "what": "Country"},
            lastmod=_lastmod(max(r["figures"]["last_day"] for r in hub_rows)),
            breadcrumbs=(HOME, COUNTRIES),
        )

    yield country_hub


def protocol_pages(data: Dataset, site: SiteConfig) -> Iterator[PageOrThunk]:
    names = {p["slug"]: p["name"] for p in data.protocols}
    for key, crumb, label in (
        ("country_slug", COUNTRIES, "country_name"),
        ("provider_slug", PROVIDERS, "provider_name"),
    ):
        section = "countries" if key == "country_slug" else "providers"
        for group_slug, stats in _group(data.stats, key).items():
            group_name = stats[0][label]
            parent = f"/{section}/{group_slug}/"
            where = f"in {group_name}" if section == "countries" else f"of {group_name}"
            for slug in _protocols_with_pages(data, stats):
                url = f"{parent}protocols/{slug}/"
                crumbs = (HOME, crumb, Breadcrumb(group_name, parent), Breadcrumb(names[slug], url))
                yield partial(
                    _protocol_page, data, site, stats, slug, names[slug], url, where, crumbs
                )
    protocols = _protocols_with_pages(data, data.stats)
    for slug in protocols:
        url = f"/protocols/{slug}/"
        crumbs = (HOME, PROTOCOLS, Breadcrumb(names[slug], url))
        yield partial(_protocol_page, data, site, data.stats, slug, names[slug], url, None, crumbs)

    def protocol_hub() -> Page:
        hub_rows = _hub_rows(
            data,
            [
                (names[slug], f"/protocols/{slug}/", data.by_protocol.over(slug, data.stats))
                for slug in protocols
            ],
        )
        # the hub stays (the home page links it); unindexed while no protocol has data
        return Page(
            kind="protocol",
            url="/protocols/",
            indexable=bool(hub_rows),
            template="bestvpnserver/hub.html",
            title="VPN protocols compared: WireGuard, OpenVPN and IKEv2 measured",
            description=(
                "Median download and latency per VPN protocol over"
                f" {sum(r['figures']['runs'] for r in hub_rows):,} runs."
            ),
            context={"heading": "Protocols", "rows": hub_rows, "what": "Protocol"},
            lastmod=_lastmod(max(r["figures"]["last_day"] for r in hub_rows)) if hub_rows else None,
            breadcrumbs=(HOME, PROTOCOLS),
        )

    yield protocol_hub


def _protocol_page(
    data: Dataset,
    site: SiteConfig,
    stats: list[dict[str, Any]],
    slug: str,
    name: str,
    url: str,
    where: str | None,  # "in Germany", "of Mullvad"; None for all servers
    crumbs: tuple[Breadcrumb, ...],
) -> Page:
    """The servers among `stats` measured over one protocol, by that protocol's figures."""
    over = data.by_protocol.over(slug, stats)
    if where is None:
        heading = f"VPN servers over {name}"
        title = f"{name} VPN speed: {len(over.servers):,} servers measured"
        lede = f"Runs made over {name} only."
    else:
        heading = f"VPN servers {where} over {name}"
        title = f"{name} VPN speed {where}: {len(over.servers)} servers measured"
        lede = f"Runs over {name} only, servers {where}."
    return _listing(
        data,
        site,
        kind="protocol",
        url=url,
        heading=heading,
        title=title,
        lede=lede,
        stats=over,
        crumbs=crumbs,
    )


def _hub_rows(
    data: Dataset, groups: list[tuple[str, str, list[dict[str, Any]] | ProtocolServers]]
) -> list[dict[str, Any]]:
    """A hub's rows: name, URL and figures per group of servers (or of servers measured
    over a protocol)."""
    return [
        {"name": name, "url": url, "figures": summary(stats, data.newest, data.gate)}
        for name, url, stats in groups
    ]


def _server_pages(
    data: Dataset, site: SiteConfig, items: range, connection: Connection
) -> Iterator[Page]:
    """The pages of `data.paged_servers[items]`. Their latest runs are read here, for these
    servers only: every server's would be the largest part of the dataset."""
    servers = data.paged_servers[items.start : items.stop]
    latest_runs: dict[int, list[ProbeRun]] = defaultdict(list)
    for run in queries.latest_runs_of(connection, [s["id"] for s in servers]):
        latest_runs[run.server_id].append(run)
    probes = {p["id"]: p for p in data.probes}
    platforms = {p["slug"]: p["name"] for p in data.platforms}
    for s in servers:
        series = data.daily.series(s["id"])
        chart = line_chart(
            f"Daily median download of {s['hostname']}",
            [Series("download", series.downloads_mbit())],
            unit=lambda v: f"{v:,.0f} Mbit/s",
            caption="Each day's median download over all probes and protocols.",
        )
        checks = sorted(
            data.streaming.get(s["id"], []),
            key=lambda c: (platforms.get(c["platform"], c["platform"]), c["region"]),
        )
        location = f"{s['city_name']}, {s['country_name']}" if s["city_name"] else s["country_name"]
        yield Page(
            kind="server",
            url=s["url"],
            template="bestvpnserver/server.html",
            title=f"{s['hostname']} ({s['provider_name']}, {location}): speed, latency, uptime",
            description=(
                f"{s['provider_name']} server {s['hostname']} in {location}: median download"
                f" {mbps(s['download_median_bps'])}, latency {ms(s['latency_median_ms'])} over"
                f" {s['runs']} runs from {day_text(s['first_day'], year=False)} to"
                f" {day_text(s['last_day'])}."
            ),
            context={
                "s": s,
                "series": series,
                "protocols": data.by_protocol.of(s["id"]),
                "chart": chart,
                # What the table shows of each run, in its columns' order, so that the key
                # follows it: tuples of plain values, as a dict with a datetime in it cost
                # eight times as much to pickle for the key.
                "latest": [
                    (
                        probes.get(run.probe_id, {"city": run.probe_id})["city"],
                        run.protocol,
                        iso(run.started_at),
                        date_text(run.started_at),
                        run.latency_ms,
                        run.download_bps,
                        run.connect_success,
                    )
                    for run in latest_runs[s["id"]]
                ],
                "checks": checks,
                "platforms": platforms,
                "stale": (data.newest - s["last_day"]).days > data.gate.stale_after_days,
                "city_page": (s["country_slug"], s["city_slug"]) in data.city_pages,
            },
            lastmod=_lastmod(s["last_day"]),
            breadcrumbs=(
                HOME,
                PROVIDERS,
                Breadcrumb(s["provider_name"], f"/providers/{s['provider_slug']}/"),
                Breadcrumb(s["hostname"], s["url"]),
            ),
        )


# A page per server with enough runs: built in the render workers, a shard of servers at a
# time (site_builder/build/parallel.py), as these are most of the site's pages.
server_pages = ShardedKind(count=lambda data: len(data.paged_servers), pages=_server_pages)


def _status_order(check: dict[str, Any]) -> tuple[Any, ...]:
    status = STATUS_ORDER.index(check["status"]) if check["status"] in STATUS_ORDER else 9
    return (status, check["server"]["provider_slug"], check["server"]["hostname"], check["region"])


# What the streaming pages show and group by of a check's server: only these go into their
# context, so their input keys do not move with the server's speed figures.
STREAMING_SERVER_FIELDS = (
    "hostname",
    "provider_slug",
    "provider_name",
    "country_slug",
    "country_name",
)


def streaming_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    by_id = {s["id"]: {field: s[field] for field in STREAMING_SERVER_FIELDS} for s in data.stats}
    by_platform: dict[str, list[dict[str, Any]]] = defaultdict(list)  # one pass over checks
    for server_checks in data.streaming.values():
        for c in server_checks:
            server = by_id.get(c["server_id"])
            if server is not None:
                by_platform[c["platform"]].append({**c, "server": server})
    hub_rows = []
    for platform in data.platforms:
        slug = platform["slug"]
        checks = by_platform.get(slug, [])
        if len(checks) < data.gate.min_servers:
            continue
        url = f"/streaming/{slug}/"
        # sub-pages by the server's country (/streaming/<p>/<country>/) and by provider
        # (/streaming/<p>/providers/<provider>/)
        splits = {
            "country": ("country_slug", "country_name", ""),
            "provider": ("provider_slug", "provider_name", "providers/"),
        }
        tables: dict[str, list[dict[str, Any]]] = {}
        for split, (key, label, prefix) in splits.items():
            groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for check in checks:
                groups[check["server"][key]].append(check)
            tables[split] = []
            for group_slug, group in sorted(groups.items()):
                name = group[0]["server"][label]
                page_url = f"{url}{prefix}{group_slug}/"
                tables[split].append(_streaming_row(group, page_url, name, data))
                if len(group) < data.gate.min_servers:
                    continue
                unblocked = sum(c["status"] == "unblocked" for c in group)
                where = f"in {name}" if split == "country" else f"on {name}"
                yield Page(
                    kind="streaming",
                    url=page_url,
                    template="bestvpnserver/streaming.html",
                    title=(
                        f"{platform['name']} with a VPN {where}: {unblocked} of {len(group)}"
                        " servers unblock it"
                    ),
                    description=(
                        f"The latest {platform['name']} check of {len(group)} VPN servers"
                        f" {where}, server by server."
                    ),
                    context={
                        "platform": platform,
                        "tables": None,
                        "checks": sorted(group, key=_status_order),
                        "where": where,
                    },
                    lastmod=max(c["checked_at"] for c in group),
                    breadcrumbs=(
                        HOME,
                        STREAMING,
                        Breadcrumb(platform["name"], url),
                        Breadcrumb(name, page_url),
                    ),
                )
        hub_rows.append(
            {
                "name": platform["name"],
                "url": url,
                **_streaming_row(checks, url, platform["name"], data),
            }
        )
        unblocked = sum(c["status"] == "unblocked" for c in checks)
        yield Page(
            kind="streaming",
            url=url,
            template="bestvpnserver/streaming.html",
            title=(
                f"VPN servers that unblock {platform['name']}: {unblocked:,} of {len(checks):,}"
                " checked"
            ),
            description=(
                f"Which VPN servers reach {platform['name']}'s full catalogue, by country and"
                f" provider: the latest result of {len(checks):,} checks."
            ),
            context={"platform": platform, "tables": tables, "checks": None, "where": None},
            lastmod=max(c["checked_at"] for c in checks),
            breadcrumbs=(HOME, STREAMING, Breadcrumb(platform["name"], url)),
        )
    # the hub stays (the menu links it); unindexed while no platform has data
    yield Page(
        kind="streaming",
        url="/streaming/",
        indexable=bool(hub_rows),
        template="bestvpnserver/streaming_hub.html",
        title="Which VPN servers unblock Netflix, Disney+, BBC iPlayer and more",
        description="The latest streaming checks of the VPN servers we measure, per platform.",
        context={"rows": hub_rows},
        lastmod=max((r["last"] for r in hub_rows), default=None),
        breadcrumbs=(HOME, STREAMING),
    )


def _streaming_row(
    checks: list[dict[str, Any]], url: str, name: str, data: Dataset
) -> dict[str, Any]:
    counts = {status: sum(c["status"] == status for c in checks) for status in STATUS_ORDER}
    return {
        "name": name,
        "url": url,
        "checks": len(checks),
        "counts": counts,
        "last": max(c["checked_at"] for c in checks),
        "linked": len(checks) >= data.gate.min_servers,
    }


def _shared_countries(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[str]:
    return sorted({s["country_slug"] for s in a} & {s["country_slug"] for s in b})


def compare_pages(data: Dataset, site: SiteConfig) -> Iterator[PageOrThunk]:
    groups = _group(data.stats, "provider_slug")
    by_country = {slug: _group(stats, "country_slug") for slug, stats in groups.items()}
    figures: dict[tuple[str, str], dict[str, Any]] = {}  # (provider, country), shared by
    for (a_slug, a), (b_slug, b) in combinations(groups.items(), 2):  # the pairs' pages
        common = sorted(by_country[a_slug].keys() & by_country[b_slug].keys())
        if common:
            yield partial(
                _compare_page, data, (a_slug, a), (b_slug, b), common, by_country, figures
            )


def _compare_page(
    data: Dataset,
    first: tuple[str, list[dict[str, Any]]],
    second: tuple[str, list[dict[str, Any]]],
    common: list[str],
    by_country: dict[str, dict[str, list[dict[str, Any]]]],
    figures: dict[tuple[str, str], dict[str, Any]],
) -> Page:
    (a_slug, a), (b_slug, b) = first, second

    def summary_of(slug: str, country: str = "") -> dict[str, Any]:  # "": all countries
        if (slug, country) not in figures:
            servers = by_country[slug][country] if country else (a if slug == a_slug else b)
            figures[slug, country] = summary(servers, data.newest, data.gate)
        return figures[slug, country]

    a_name, b_name = a[0]["provider_name"], b[0]["provider_name"]
    fa, fb = summary_of(a_slug), summary_of(b_slug)
    countries = []
    for country in common:
        countries.append(
            {
                "name": by_country[a_slug][country][0]["country_name"],
                "a": summary_of(a_slug, country),
                "b": summary_of(b_slug, country),
                "url": f"/countries/{country}/",
            }
        )
    url = f"/compare/{a_slug}-vs-{b_slug}/"
    faster = (
        a_name if (fa["download_median_bps"] or 0) >= (fb["download_median_bps"] or 0) else b_name
    )
    return Page(
        kind="compare",
        url=url,
        template="bestvpnserver/compare.html",
        title=f"{a_name} vs {b_name}: measured VPN speed and latency in {len(common)} countries",
        description=(
            f"{a_name} ({mbps(fa['download_median_bps'])}) against {b_name}"
            f" ({mbps(fb['download_median_bps'])}) median download over"
            f" {fa['runs'] + fb['runs']:,}"
            f" runs; {faster} is faster overall."
        ),
        context={
            "a": {"name": a_name, "url": f"/providers/{a_slug}/", "f": fa},
            "b": {"name": b_name, "url": f"/providers/{b_slug}/", "f": fb},
            "countries": countries,
        },
        lastmod=_lastmod(max(fa["last_day"], fb["last_day"])),
        breadcrumbs=(HOME, PROVIDERS, Breadcrumb(f"{a_name} vs {b_name}", url)),
    )


def about_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    figures = summary(data.stats, data.newest, data.gate)
    yield Page(
        kind="about",
        url="/methodology/",
        template="bestvpnserver/methodology.html",
        title="How we measure VPN servers: probes, protocols and statistics",
        description=(
            f"{len(data.probes)} probe locations, {len(data.protocols)} protocols and"
            f" {figures['runs']:,} runs: how latency, speed, uptime and streaming are"
            " measured and ranked."
        ),
        context={
            "figures": figures,
            "probes": data.probes,
            "protocols": data.protocols,
            "platforms": data.platforms,
            "gate": data.gate,
        },
        lastmod=_lastmod(figures["last_day"]),
        breadcrumbs=(HOME, Breadcrumb("Methodology", "/methodology/")),
    )
    yield Page(
        kind="about",
        url="/open-data/",
        template="bestvpnserver/open_data.html",
        title="Open data: VPN server measurements as JSON and CSV",
        description=(
            f"Download our measurements of {figures['servers']:,} VPN servers as JSON and CSV,"
            " updated nightly."
        ),
        context={"figures": figures, "files": DATA_FILES},
        lastmod=_lastmod(figures["last_day"]),
        breadcrumbs=(HOME, Breadcrumb("Open data", "/open-data/")),
        json_ld=(
            {
                "@context": "https://schema.org",
                "@type": "Dataset",
                "name": f"{site.title} VPN server measurements",
                "description": (
                    f"Median download, upload and latency of {figures['servers']:,} VPN"
                    " servers from"
                    f" {figures['providers']} providers, measured from {len(data.probes)}"
                    " probe locations."
                ),
                "url": site.base_url + "/open-data/",
                "temporalCoverage": f"{figures['first_day']}/{figures['last_day']}",
                "license": "https://creativecommons.org/licenses/by/4.0/",
                "creator": {"@type": "Organization", "name": site.title},
                "distribution": [
                    {
                        "@type": "DataDownload",
                        "encodingFormat": f["format"],
                        "contentUrl": site.base_url + f["url"],
                    }
                    for f in DATA_FILES
                ],
            },
        ),
    )


def tools_pages(data: Dataset | None, site: SiteConfig) -> Iterator[Page]:
    return tools.tool_pages(site)


DATA_FILES = (
    {
        "url": "/api/servers.json",
        "format": "application/json",
        "what": "Every ranked server with its medians",
    },
    {
        "url": "/api/stats/overview.json",
        "format": "application/json",
        "what": "Totals and medians over all servers",
    },
    {
        "url": "/api/providers.json",
        "format": "application/json",
        "what": "Per provider: servers, countries, medians",
    },
    {"url": "/data/servers.csv", "format": "text/csv", "what": "The server table"},
    {"url": "/data/providers.csv", "format": "text/csv", "what": "The provider table"},
    {
        "url": "/data/provider-countries.csv",
        "format": "text/csv",
        "what": "Per provider and country",
    },
)


def _server_record(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "provider": s["provider_slug"],
        "hostname": s["hostname"],
        "country": s["country_code"],
        "city": s["city_name"],
        "status": s["status"],
        "runs": s["runs"],
        "success_rate": round(s["success_rate"], 4),
        "download_median_mbps": None
        if s["download_median_bps"] is None
        else round(s["download_median_bps"] * 8 / 1e6, 1),
        "upload_median_mbps": None
        if s["upload_median_bps"] is None
        else round(s["upload_median_bps"] * 8 / 1e6, 1),
        "latency_median_ms": None
        if s["latency_median_ms"] is None
        else round(s["latency_median_ms"], 1),
        "uptime_pct": None if s["uptime_pct"] is None else round(s["uptime_pct"], 2),
        "first_day": s["first_day"].isoformat(),
        "last_day": s["last_day"].isoformat(),
        "url": s["url"],
    }


def _figures_record(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "servers": f["servers"],
        "runs": f["runs"],
        "countries": f["countries"],
        "download_median_mbps": None
        if f["download_median_bps"] is None
        else round(f["download_median_bps"] * 8 / 1e6, 1),
        "latency_median_ms": None
        if f["latency_median_ms"] is None
        else round(f["latency_median_ms"], 1),
        "success_rate": round(f["success_rate"], 4),
        "first_day": f["first_day"].isoformat(),
        "last_day": f["last_day"].isoformat(),
    }


def data_files(data: Dataset | None, site: SiteConfig) -> Iterator[tuple[str, Content]]:
    """The seeds' list endpoints as static JSON under /api/, and every table as CSV."""
    if data is None:
        return
    servers = data.ranked  # written a record at a time: the list is every ranked server
    providers = [
        {
            "provider": slug,
            "name": group[0]["provider_name"],
            **_figures_record(summary(group, data.newest, data.gate)),
        }
        for slug, group in _group(data.stats, "provider_slug").items()
    ]
    provider_countries = [
        {
            "provider": slug,
            "country": country_group[0]["country_code"],
            **_figures_record(summary(country_group, data.newest, data.gate)),
        }
        for slug, group in _group(data.stats, "provider_slug").items()
        for country_group in _group(group, "country_slug").values()
    ]
    yield (
        "api/servers.json",
        json_records_file({"count": len(servers)}, "servers", map(_server_record, servers)),
    )
    yield (
        "api/stats/overview.json",
        json_file(_figures_record(summary(data.stats, data.newest, data.gate))),
    )
    yield "api/providers.json", json_file({"count": len(providers), "providers": providers})
    yield "data/servers.csv", csv_file(map(_server_record, servers))
    yield "data/providers.csv", csv_file(providers)
    yield "data/provider-countries.csv", csv_file(provider_countries)


def not_found_page(site: SiteConfig) -> Page:
    return Page(
        kind="404",
        url="/404.html",
        template="bestvpnserver/404.html",
        title=f"Page not found · {site.title}",
        description="This page does not exist. See the fastest measured VPN servers instead.",
        context={},
        indexable=False,
    )


def static_files(site: SiteConfig) -> Iterator[tuple[str, bytes]]:
    if "tools" in site.page_kinds:
        yield from tools.payload_files()


PAGE_KINDS = {
    "home": home_pages,
    "ranking": ranking_pages,
    "provider": provider_pages,
    "country": country_pages,
    "protocol": protocol_pages,
    "server": server_pages,
    "streaming": streaming_pages,
    "compare": compare_pages,
    "about": about_pages,
    "tools": tools_pages,
}
NEEDS_DATA = frozenset(PAGE_KINDS) - {"tools"}
# Kinds whose pages are made by thunks: the engine splits them across the render workers.
SPLIT_KINDS = frozenset({"ranking", "provider", "country", "protocol", "compare"})


def blocks(environment: Any) -> dict[str, Any]:
    """The blocks editors can use in content/bestvpnserver/*.md (see docs/content.md)."""

    def fastest_servers(data: Dataset, args: list[str]) -> tuple[Any, datetime | None]:
        options = dict(a.split("=", 1) for a in args if "=" in a)
        unknown = set(options) - {"country", "provider", "limit"}
        if unknown or any("=" not in a for a in args):
            raise ValueError(
                "usage: ::: fastest-servers [country=<slug>] [provider=<slug>] [limit=N]"
            )
        try:
            limit = int(options.get("limit", "10"))
        except ValueError:
            raise ValueError(f"limit must be a whole number, not {options['limit']!r}") from None
        for key, known in (
            ("country", {s["country_slug"] for s in data.stats}),
            ("provider", {s["provider_slug"] for s in data.stats}),
        ):
            if key in options and options[key] not in known:
                raise ValueError(f"no {key} {options[key]!r} among the measured servers")
        servers = [
            s
            for s in data.ranked
            if options.get("country", s["country_slug"]) == s["country_slug"]
            and options.get("provider", s["provider_slug"]) == s["provider_slug"]
        ]
        html = environment.get_template("bestvpnserver/block_fastest_servers.html").render(
            servers=_rows(servers[:limit], data), gate=data.gate
        )
        return Markup(html), _lastmod(max(s["last_day"] for s in servers)) if servers else None

    return {"fastest-servers": fastest_servers}
