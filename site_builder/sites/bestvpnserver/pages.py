"""bestvpnserver page kinds: the home page and the fastest-servers ranking."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from site_builder.build.page import Breadcrumb, Page
from site_builder.config import SiteConfig
from site_builder.sites.bestvpnserver import queries, tools

HOME = Breadcrumb("Home", "/")
MIN_RUNS = 3  # quality gate: a server needs this many runs to be ranked
RANKING_SIZE = 100
RANKING_URL = "/rankings/fastest-servers/"


def _ranked(connection: Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(all server stats, the ranked ones: enough runs and a download median, fastest first)."""
    stats = queries.server_stats(connection)
    ranked = sorted(
        (s for s in stats if s["runs"] >= MIN_RUNS and s["download_median_bps"] is not None),
        key=lambda s: (-s["download_median_bps"], s["provider_slug"], s["hostname"]),
    )
    return stats, ranked


def _window(stats: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "first": min(s["first_at"] for s in stats),
        "last": max(s["last_at"] for s in stats),
        "runs": sum(s["runs"] for s in stats),
    }


def home_pages(connection: Connection, site: SiteConfig) -> Iterator[Page]:
    stats, ranked = _ranked(connection)
    if not stats:
        return
    providers = sorted({s["provider_name"] for s in stats})
    countries = sorted({s["country_name"] for s in stats})
    window = _window(stats)
    yield Page(
        kind="home",
        url="/",
        template="bestvpnserver/home.html",
        title=f"{site.title}: VPN servers ranked by measured speed and latency",
        description=(
            f"{window['runs']:,} measured runs of {len(stats):,} servers from"
            f" {len(providers)} VPN providers in {len(countries)} countries, ranked by median"
            " download speed."
        ),
        context={
            "top": ranked[:10],
            "providers": providers,
            "countries": countries,
            "servers": len(stats),
            "window": window,
            "ranking_url": RANKING_URL,
        },
        lastmod=window["last"],
    )


def ranking_pages(connection: Connection, site: SiteConfig) -> Iterator[Page]:
    stats, ranked = _ranked(connection)
    if not ranked:
        return
    top = ranked[:RANKING_SIZE]
    window = _window(top)
    yield Page(
        kind="ranking",
        url=RANKING_URL,
        template="bestvpnserver/ranking.html",
        title=f"The {len(top)} fastest VPN servers by measured download speed",
        description=(
            f"VPN servers ranked by median download over {window['runs']:,} probe runs; the"
            f" fastest, {top[0]['hostname']} ({top[0]['provider_name']}), reached"
            f" {top[0]['download_median_bps'] * 8 / 1e6:,.0f} Mbit/s."
        ),
        context={
            "ranked": top,
            "window": window,
            "min_runs": MIN_RUNS,
            "unranked": len(stats) - len(ranked),
        },
        lastmod=window["last"],
        breadcrumbs=(HOME, Breadcrumb("Fastest servers", RANKING_URL)),
        json_ld=(
            {
                "@context": "https://schema.org",
                "@type": "ItemList",
                "name": "Fastest VPN servers by median download speed",
                "numberOfItems": len(top),
                "itemListElement": [
                    {
                        "@type": "ListItem",
                        "position": i,
                        "name": f"{s['hostname']} ({s['provider_name']})",
                    }
                    for i, s in enumerate(top, start=1)
                ],
            },
        ),
    )


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


def tools_pages(connection: Connection, site: SiteConfig) -> Iterator[Page]:
    return tools.tool_pages(site)


def static_files(site: SiteConfig) -> Iterator[tuple[str, bytes]]:
    if "tools" in site.page_kinds:
        yield from tools.payload_files()


PAGE_KINDS = {"home": home_pages, "ranking": ranking_pages, "tools": tools_pages}
