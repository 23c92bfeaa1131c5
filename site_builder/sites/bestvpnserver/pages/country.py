"""Country pages: the hub, one page per country, its cities, and its servers per protocol."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from site_builder.config import SiteConfig
from site_builder.render.page import Breadcrumb, Page, PageOrThunk
from site_builder.sites.bestvpnserver.common import (
    COUNTRIES,
    HOME,
    Dataset,
    day_lastmod,
    group_by,
    hub_table_rows,
    listing_context,
    protocol_links,
    protocols_with_pages,
)
from site_builder.sites.bestvpnserver.inventory import place_block
from site_builder.sites.bestvpnserver.pages.provider import provider_city_page


def country_pages(data: Dataset, site: SiteConfig) -> Iterator[PageOrThunk]:
    hub: list[tuple[str, str, list[dict[str, Any]]]] = []  # name, URL, servers
    per_probe = data.latency.places
    for country, stats in group_by(data.stats, "country_slug").items():
        name = stats[0]["country_name"]
        url = f"/countries/{country}/"
        hub.append((name, url, stats))
        providers = group_by(stats, "provider_slug")
        cities = group_by([s for s in stats if s["city_slug"]], "city_slug")
        yield partial(
            listing_context,
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
            extra={"inventory": place_block(data.inventory, country)},
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
                protocol_links(data, url, protocols_with_pages(data, stats)),
                {
                    "title": f"Cities in {name}",
                    "items": [
                        {
                            "name": g[0]["city_name"],
                            "url": f"/countries/{country}/{c}/",
                            "servers": len(g),
                            "linked": (country, c) in data.city_pages,
                        }
                        for c, g in cities.items()
                    ],
                },
            ],
        )
        for city, group in cities.items():
            if (country, city) not in data.city_pages:  # too few servers, or the whole country
                continue
            city_name = group[0]["city_name"]
            place = f"{country}/{city}"
            yield partial(
                listing_context,
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
                                "linked": provider_city_page(g, providers[ps], data.gate),
                            }
                            for ps, g in group_by(group, "provider_slug").items()
                        ],
                    },
                ],
                crumbs=(
                    HOME,
                    COUNTRIES,
                    Breadcrumb(name, url),
                    Breadcrumb(city_name, f"/countries/{country}/{city}/"),
                ),
                extra={"inventory": place_block(data.inventory, country, city)},
            )

    def country_hub() -> Page:
        hub_rows = hub_table_rows(data, hub)
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
            lastmod=day_lastmod(max(r["figures"]["last_day"] for r in hub_rows)),
            breadcrumbs=(HOME, COUNTRIES),
        )

    yield country_hub
