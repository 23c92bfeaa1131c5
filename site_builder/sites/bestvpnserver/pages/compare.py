"""Provider vs provider, for pairs measured in the same countries."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from itertools import combinations
from typing import Any

from site_builder.config import SiteConfig
from site_builder.render.environment import mbps
from site_builder.render.page import Breadcrumb, Page, PageOrThunk
from site_builder.sites.bestvpnserver.common import HOME, PROVIDERS, Dataset, day_lastmod, group_by
from site_builder.sites.bestvpnserver.model import (
    summary,
)


def compare_pages(data: Dataset, site: SiteConfig) -> Iterator[PageOrThunk]:
    groups = group_by(data.stats, "provider_slug")
    by_country = {slug: group_by(stats, "country_slug") for slug, stats in groups.items()}
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
        lastmod=day_lastmod(max(fa["last_day"], fb["last_day"])),
        breadcrumbs=(HOME, PROVIDERS, Breadcrumb(f"{a_name} vs {b_name}", url)),
    )
