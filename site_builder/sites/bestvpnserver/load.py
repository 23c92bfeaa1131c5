"""Everything the bestvpnserver pages need, read once per build (rollups, not raw
measurements).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from site_builder.config import SiteConfig
from site_builder.ops.freshness import SOURCE_KINDS
from site_builder.ops.public import public_status
from site_builder.render.parallel import beside
from site_builder.sites.bestvpnserver import queries
from site_builder.sites.bestvpnserver.common import RANKING_SIZE, Dataset
from site_builder.sites.bestvpnserver.facts import Facts
from site_builder.sites.bestvpnserver.inventory import load_inventory
from site_builder.sites.bestvpnserver.model import (
    LatencyRankings,
    QualityGate,
    fastest_first,
    latency_rankings,
    server_stats,
)


def load(
    connection: Connection, site: SiteConfig, jobs: int = 1, editor: Facts | None = None
) -> Dataset | None:
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
        links = queries.provider_links(connection)
        rankings, streaming = beside_the_stats()
    ranked = fastest_first(stats, gate)
    # the editors' facts file the engine read (`editor_data`); a broken one gives no facts
    # (the engine reports it), and the pages are built without them
    facts = editor if editor is not None else Facts({})
    inventory = load_inventory(
        connection,
        {p["slug"]: p["name"] for p in reference["protocols"]},
        stats,
        gate.min_runs_per_server,
    )
    paged_servers = [s for s in stats if s["runs"] >= gate.min_runs_per_server]
    whole = whole_country_cities(stats)
    city_servers = Counter(
        (s["country_slug"], s["city_slug"])
        for s in stats
        if s["city_slug"] and (s["country_slug"], s["city_slug"]) not in whole
    )
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
        status=public_status(connection, SOURCE_KINDS["measurements"]),
        inventory=inventory,
        provider_facts=facts.by_provider,
        provider_links=links,
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


def whole_country_cities(stats: list[dict[str, Any]]) -> frozenset[tuple[str, str]]:
    """(country, city) where the city holds every measured server of its country: a
    city-state such as Singapore, Luxembourg or Hong Kong, or a country measured in one
    city only. Its city page would repeat the country page, so it gets none."""
    cities: dict[str, set[str | None]] = {}
    for s in stats:
        cities.setdefault(s["country_slug"], set()).add(s["city_slug"])
    return frozenset(
        (country, city)
        for country, found in cities.items()
        if len(found) == 1 and (city := next(iter(found))) is not None
    )


def _places_of(stats: list[dict[str, Any]]) -> dict[int, tuple[str, ...]]:
    """Server id -> the places its latency is ranked in: "<country>", "<country>/<city>"
    (not for a city that is its whole country) and "providers/<provider>"."""
    names: dict[str, str] = {}  # one string per place, shared by its servers
    places = {}
    whole = whole_country_cities(stats)
    for s in stats:
        keys = [s["country_slug"], f"providers/{s['provider_slug']}"]
        if s["city_slug"] and (s["country_slug"], s["city_slug"]) not in whole:
            keys.append(f"{s['country_slug']}/{s['city_slug']}")
        places[s["id"]] = tuple(names.setdefault(key, key) for key in keys)
    return places
