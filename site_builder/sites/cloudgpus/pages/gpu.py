"""GPU pages: the hub, one page per GPU model, the model at each provider (`gpu_provider`),
and its offers per country and its spot and reserved prices (`gpu_country`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from site_builder.config import SiteConfig
from site_builder.render.charts import Series, line_chart
from site_builder.render.environment import usd
from site_builder.render.page import Breadcrumb, Page
from site_builder.sites.cloudgpus.common import (
    GPUS,
    HOME,
    KIND_NAMES,
    Dataset,
    chart_usd,
    comparable,
    country_name,
    figures,
    gpu_countries,
    group_by,
    price_from,
)
from site_builder.sites.cloudgpus.history import daily_lowest, top_changes
from site_builder.sites.cloudgpus.specs import spec_sheet, value_for_money

# A GPU page shows its few biggest recent moves; /price-changes/ has the rest.
GPU_CHANGES = 5


def _product(
    model: dict[str, Any], f: dict[str, Any], url: str, site: SiteConfig
) -> dict[str, Any]:
    headline = f["headline"]
    return {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": f"{model['name']} cloud GPU (per GPU-hour)",
        "category": "Cloud GPU rental",
        "brand": {"@type": "Brand", "name": model["vendor"].upper()},
        "url": site.base_url + url,
        "offers": {
            "@type": "AggregateOffer",
            "priceCurrency": "USD",
            "lowPrice": str(headline["min"]),
            "highPrice": str(headline["max"]),
            "offerCount": headline["count"],
        },
    }


def _history_chart(points: list[dict[str, Any]], title: str) -> Any:
    return line_chart(
        title,
        [Series("lowest on-demand", daily_lowest(points))],
        unit=chart_usd,
        caption="Lowest on-demand price per GPU-hour on each day we pulled prices.",
    )


def gpu_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    hub = []
    for slug, offers in group_by(data.offers, "gpu_model_slug").items():
        model = data.models[slug]
        f = figures(offers)
        url = f"/gpus/{slug}/"
        spec = data.specs.get(slug)  # an editor's cited spec-sheet figures, if any
        value = value_for_money(spec, f)
        hub.append({"model": model, "f": f, "url": url, "value": value})
        providers = [
            {"name": g[0]["provider_name"], "url": f"/gpus/{slug}/{p}/", "f": figures(g)}
            for p, g in group_by(offers, "provider_slug").items()
        ]
        by_model = group_by(data.offers, "gpu_model_slug")
        rivals = [
            {
                "name": f"{model['name']} vs {data.models[other]['name']}",
                "url": "/gpus/compare/{}-vs-{}/".format(*sorted((slug, other))),
            }
            for other in by_model
            if other != slug and comparable(data, by_model, slug, other)
        ]
        yield Page(
            kind="gpu",
            url=url,
            template="cloudgpus/gpu.html",
            title=(
                f"{model['name']} cloud prices: from {price_from(f)}/GPU-hour at"
                f" {len(f['providers'])} providers"
            ),
            description=(
                f"{len(offers)} current {model['name']} ({model['vram_gb']} GB) offers from"
                f" {len(f['providers'])} providers; on demand from {price_from(f)} per GPU-hour."
            ),
            context={
                "model": model,
                "f": f,
                "offers": offers,
                "providers": providers,
                "rivals": rivals,
                "countries": [
                    {"code": c.lower(), "name": country_name(c)}
                    for c in sorted(gpu_countries(offers, site))
                ],
                "chart": _history_chart(
                    data.history.get(slug, []), f"{model['name']} lowest price"
                ),
                "spec": spec_sheet(spec) if spec else None,
                "value": value,
                "changes": top_changes(
                    [c for c in data.changes if c["gpu_model_slug"] == slug], GPU_CHANGES
                )[0],
            },
            lastmod=f["lastmod"],
            breadcrumbs=(HOME, GPUS, Breadcrumb(model["name"], url)),
            json_ld=(_product(model, f, url, site),) if f["headline"] else (),
        )
        yield from _gpu_subpages(data, site, model, offers, url)
        for provider_slug, group in group_by(offers, "provider_slug").items():
            provider = data.providers[provider_slug]
            pf = figures(group)
            page_url = f"/gpus/{slug}/{provider_slug}/"
            yield Page(
                kind="gpu_provider",
                url=page_url,
                template="cloudgpus/gpu_provider.html",
                title=(
                    f"{model['name']} on {provider['name']}: {len(group)} offers from"
                    f" {price_from(pf)}/GPU-hour"
                ),
                description=(
                    f"Every {model['name']} offer at {provider['name']}: {len(group)} instance,"
                    f" region and pricing combinations, from {price_from(pf)} per GPU-hour."
                ),
                context={
                    "model": model,
                    "provider": provider,
                    "chart": _history_chart(
                        [
                            p
                            for p in data.history.get(slug, [])
                            if p["provider_slug"] == provider_slug
                        ],
                        f"{model['name']} at {provider['name']}: lowest price",
                    ),
                    "f": pf,
                    "offers": group,
                    "overall": f,
                },
                lastmod=pf["lastmod"],
                breadcrumbs=(
                    HOME,
                    GPUS,
                    Breadcrumb(model["name"], url),
                    Breadcrumb(provider["name"], page_url),
                ),
                json_ld=(_product(model, pf, page_url, site),) if pf["headline"] else (),
            )
    hub.sort(key=lambda r: (r["f"]["headline"]["min"], r["model"]["slug"]))
    yield Page(
        kind="gpu",
        url="/gpus/",
        template="cloudgpus/gpu_hub.html",
        title=f"{len(hub)} cloud GPUs compared: current prices per GPU-hour",
        description=(
            "Every GPU model we track with its lowest on-demand price, median and number of"
            f" offers from {len(data.providers)} providers."
        ),
        context={"rows": hub},
        lastmod=max(r["f"]["lastmod"] for r in hub),
        breadcrumbs=(HOME, GPUS),
    )


def _gpu_subpages(
    data: Dataset, site: SiteConfig, model: dict[str, Any], offers: list[dict[str, Any]], url: str
) -> Iterator[Page]:
    """A GPU's offers in one country, and its spot and reserved prices on their own."""
    for code, group in gpu_countries(offers, site).items():
        name = country_name(code)
        f = figures(group)
        page_url = f"{url}countries/{code.lower()}/"
        yield Page(
            kind="gpu_country",
            url=page_url,
            template="cloudgpus/gpu_subset.html",
            title=(
                f"{model['name']} in {name}: {len(group)} cloud offers from"
                f" {price_from(f)}/GPU-hour"
            ),
            description=(
                f"{model['name']} offers in data centres in {name}: {len(group)} offers from"
                f" {len(f['providers'])} providers."
            ),
            context={
                "model": model,
                "f": f,
                "offers": group,
                "heading": f"{model['name']} in {name}",
                "lede": f"Offers in regions located in {name}.",
            },
            lastmod=f["lastmod"],
            breadcrumbs=(HOME, GPUS, Breadcrumb(model["name"], url), Breadcrumb(name, page_url)),
        )
    for kind in ("spot", "reserved"):
        group = [o for o in offers if o["pricing_kind"] == kind]
        if not group:
            continue
        f = figures(group)
        page_url = f"{url}{kind}/"
        low = f["kinds"][kind]["min"]
        yield Page(
            kind="gpu_country",
            url=page_url,
            template="cloudgpus/gpu_subset.html",
            title=f"{model['name']} {KIND_NAMES[kind]} prices: from {usd(low)}/GPU-hour",
            description=(
                f"{len(group)} {KIND_NAMES[kind]} {model['name']} offers from"
                f" {len(f['providers'])} providers, from {usd(low)} per GPU-hour."
            ),
            context={
                "model": model,
                "f": f,
                "offers": group,
                "heading": f"{model['name']} {KIND_NAMES[kind]} prices",
                "lede": (
                    "Interruptible capacity: cheaper, but the provider may reclaim it."
                    if kind == "spot"
                    else "Committed terms: cheaper per hour, paid for the whole term."
                ),
            },
            lastmod=f["lastmod"],
            breadcrumbs=(
                HOME,
                GPUS,
                Breadcrumb(model["name"], url),
                Breadcrumb(KIND_NAMES[kind], page_url),
            ),
        )
