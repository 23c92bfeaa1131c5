"""Protocol pages: the hub and one page per protocol."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from site_builder.config import SiteConfig
from site_builder.render.page import Breadcrumb, Page, PageOrThunk
from site_builder.sites.bestvpnserver.common import (
    COUNTRIES,
    HOME,
    PROTOCOLS,
    PROVIDERS,
    Dataset,
    day_lastmod,
    group_by,
    hub_table_rows,
    listing_context,
    protocols_with_pages,
)


def protocol_pages(data: Dataset, site: SiteConfig) -> Iterator[PageOrThunk]:
    names = {p["slug"]: p["name"] for p in data.protocols}
    for key, crumb, label in (
        ("country_slug", COUNTRIES, "country_name"),
        ("provider_slug", PROVIDERS, "provider_name"),
    ):
        section = "countries" if key == "country_slug" else "providers"
        for group_slug, stats in group_by(data.stats, key).items():
            group_name = stats[0][label]
            parent = f"/{section}/{group_slug}/"
            where = f"in {group_name}" if section == "countries" else f"of {group_name}"
            for slug in protocols_with_pages(data, stats):
                url = f"{parent}protocols/{slug}/"
                crumbs = (HOME, crumb, Breadcrumb(group_name, parent), Breadcrumb(names[slug], url))
                yield partial(
                    _protocol_page, data, site, stats, slug, names[slug], url, where, crumbs
                )
    protocols = protocols_with_pages(data, data.stats)
    for slug in protocols:
        url = f"/protocols/{slug}/"
        crumbs = (HOME, PROTOCOLS, Breadcrumb(names[slug], url))
        yield partial(_protocol_page, data, site, data.stats, slug, names[slug], url, None, crumbs)

    def protocol_hub() -> Page:
        hub_rows = hub_table_rows(
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
            lastmod=day_lastmod(max(r["figures"]["last_day"] for r in hub_rows))
            if hub_rows
            else None,
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
    return listing_context(
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
