"""The home page: the fastest servers, the providers and the countries."""

from __future__ import annotations

from collections.abc import Iterator

from site_builder.config import SiteConfig
from site_builder.render.page import Page
from site_builder.sites.bestvpnserver.common import (
    RANKING_URL,
    Dataset,
    day_lastmod,
    figures_chart,
    group_by,
    server_rows,
)
from site_builder.sites.bestvpnserver.model import (
    summary,
)


def home_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    figures = summary(data.stats, data.newest, data.gate)
    providers = group_by(data.stats, "provider_slug")
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
            "top": server_rows(data.ranked[:10], data),
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
            "chart": figures_chart(data, "Median download, all servers", data.stats),
        },
        lastmod=day_lastmod(figures["last_day"]),
    )
