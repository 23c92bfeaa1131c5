"""Provider pages: the hub, one page per provider, and a provider in each country and city."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from site_builder.config import SiteConfig
from site_builder.render.page import Breadcrumb, Page, PageOrThunk
from site_builder.sites.bestvpnserver.common import (
    HOME,
    PROVIDERS,
    Dataset,
    day_lastmod,
    group_by,
    hub_table_rows,
    listing_context,
    protocol_links,
    protocols_with_pages,
)
from site_builder.sites.bestvpnserver.facts import FACT_KINDS, FACT_LABELS, facts_rows
from site_builder.sites.bestvpnserver.inventory import provider_block


def _shared_countries(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[str]:
    return sorted({s["country_slug"] for s in a} & {s["country_slug"] for s in b})


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
    countries = group_by(stats, "country_slug")
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
    return listing_context(
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
            protocol_links(data, url, protocols_with_pages(data, stats)),
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
                "grouped": True,  # one folded list per country: hundreds of links otherwise
                "items": [
                    {
                        "name": s["hostname"],
                        "url": s["url"],
                        "linked": True,
                        "group": s["country_name"],
                    }
                    for s in sorted(stats, key=lambda s: (s["country_slug"], s["hostname"]))
                    if s["runs"] >= data.gate.min_runs_per_server
                ],
            },
        ],
        extra={
            "provider": stats[0],
            "inventory": provider_block(data.inventory, slug),
            "facts": facts_rows(data.provider_facts.get(slug)),
            "visit": visit_link(name, data.provider_links.get(slug)),
        },
    )


def visit_link(name: str, links: dict[str, str | None] | None) -> dict[str, Any] | None:
    """The link out to a provider's website: its affiliate link when it has one (marked
    sponsored, as search engines ask), else its own address; None without either."""
    if not links:
        return None
    if links.get("affiliate_url"):
        return {"name": name, "url": links["affiliate_url"], "sponsored": True}
    if links.get("website"):
        return {"name": name, "url": links["website"], "sponsored": False}
    return None


def facts_table(data: Dataset, names: dict[str, str]) -> dict[str, Any]:
    """The providers hub's comparison of the editors' facts: a row per provider (by name),
    each fact's text and source, or None where the facts file states none."""
    rows = []
    for slug, name in sorted(names.items(), key=lambda item: item[1].lower()):
        facts = data.provider_facts.get(slug)
        rows.append({"name": name, "url": f"/providers/{slug}/", "facts": facts_rows(facts)})
    checked = [f["checked"] for row in rows for f in row["facts"] if f["checked"] is not None]
    return {
        "rows": rows,
        "labels": [FACT_LABELS[kind] for kind in FACT_KINDS],
        "stated": any(f["text"] for row in rows for f in row["facts"]),
        "newest_check": max(checked, default=None),
    }


def provider_pages(data: Dataset, site: SiteConfig) -> Iterator[PageOrThunk]:
    groups = group_by(data.stats, "provider_slug")
    hub: list[tuple[str, str, list[dict[str, Any]]]] = []  # name, URL, servers
    for slug, stats in groups.items():
        name = stats[0]["provider_name"]
        url = f"/providers/{slug}/"
        hub.append((name, url, stats))
        yield partial(_provider_page, data, site, slug, stats, groups)
        countries = group_by(stats, "country_slug")
        for country, group in countries.items():
            if len(group) < data.gate.min_servers:
                continue
            country_name = group[0]["country_name"]
            yield partial(
                listing_context,
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
            for city, city_group in group_by(
                [s for s in group if s["city_slug"]], "city_slug"
            ).items():
                if not provider_city_page(city_group, group, data.gate):
                    continue
                city_name = city_group[0]["city_name"]
                city_url = f"/providers/{slug}/{country}/{city}/"
                yield partial(
                    listing_context,
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
        hub_rows = hub_table_rows(data, hub)
        return Page(
            kind="provider",
            url="/providers/",
            template="bestvpnserver/hub.html",
            title=f"{len(hub_rows)} VPN providers compared by measured speed and latency",
            description=(
                f"Every VPN provider we measure, with server counts, countries, median download and"
                f" latency over {sum(r['figures']['runs'] for r in hub_rows):,} runs."
            ),
            context={
                "heading": "VPN providers",
                "rows": hub_rows,
                "what": "Provider",
                "facts_table": facts_table(
                    data, {slug: s[0]["provider_name"] for slug, s in groups.items()}
                ),
                "unmeasured_providers": [
                    {"name": name, "servers": listed}
                    for slug, name, listed in (data.inventory.providers() if data.inventory else [])
                    if slug not in groups
                ],
            },
            lastmod=day_lastmod(max(r["figures"]["last_day"] for r in hub_rows)),
            breadcrumbs=(HOME, PROVIDERS),
        )

    yield provider_hub


def provider_city_page(
    in_city: list[dict[str, Any]], in_country: list[dict[str, Any]], gate: Any
) -> bool:
    """Whether a provider's servers in a city get a page: enough of them, and not all of the
    provider's servers in that country (that page would repeat the provider-in-country one,
    as in a city-state)."""
    return gate.min_servers <= len(in_city) < len(in_country)
