"""Rankings: the fastest servers overall, and the lowest latency from each probe city
to each country."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from site_builder.config import SiteConfig
from site_builder.render.environment import mbps, ms
from site_builder.render.page import Breadcrumb, Page, PageOrThunk
from site_builder.sites.bestvpnserver.common import (
    HOME,
    RANKING_SIZE,
    RANKING_URL,
    Dataset,
    day_lastmod,
    item_list_ld,
    server_rows,
)
from site_builder.sites.bestvpnserver.model import (
    ProbeRun,
    summary,
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
            "ranked": server_rows(top, data),
            "figures": figures,
            "gate": data.gate,
            "unranked": len(data.stats) - len(data.ranked),
            "probes": [p for p in data.probes if p["id"] in data.latency.top],
        },
        lastmod=day_lastmod(figures["last_day"]),
        indexable=bool(top),
        breadcrumbs=(HOME, Breadcrumb("Fastest servers", RANKING_URL)),
        json_ld=(item_list_ld("Fastest VPN servers by median download speed", site, top),)
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
                item_list_ld(f"Lowest-latency VPN servers from {probe['city']}", site, entries),
            ),
        )


# What a lowest-latency table shows of a server: only these go into its context, with the
# run's protocol, latency and time, so the ranking pages' input keys do not move with the
# servers' speed figures (and a ranking's 100 entries pickle small).
LATENCY_SERVER_FIELDS = ("url", "hostname", "provider_slug", "provider_name", "country_name")


def _latency_entries(
    data: Dataset, runs: list[ProbeRun], by_id: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    entries = server_rows([by_id[run.server_id] for run in runs], data, LATENCY_SERVER_FIELDS)
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
