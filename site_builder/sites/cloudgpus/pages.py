"""cloudgpus page kinds: the home page and one page per GPU model with current offers."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from site_builder.build.page import Breadcrumb, Page
from site_builder.config import SiteConfig
from site_builder.sites.cloudgpus import queries

HOME = Breadcrumb("Home", "/")


def _summaries(connection: Connection) -> list[dict[str, Any]]:
    """One summary per GPU model that has active offers, cheapest on-demand first."""
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for offer in queries.active_offers(connection):
        by_model[offer["gpu_model_slug"]].append(offer)
    summaries = []
    for model in queries.gpu_models(connection):
        model_offers = by_model.get(model["slug"])
        if not model_offers:
            continue
        per_gpu = [o["price_per_gpu_usd"] for o in model_offers]
        on_demand = [
            o["price_per_gpu_usd"] for o in model_offers if o["pricing_kind"] == "on_demand"
        ]
        summaries.append(
            {
                "model": model,
                "offers": model_offers,
                "min": min(per_gpu),
                "median": Decimal(statistics.median(per_gpu)).quantize(Decimal("0.0001")),
                "max": max(per_gpu),
                "cheapest_on_demand": min(on_demand) if on_demand else None,
                "providers": sorted({o["provider_name"] for o in model_offers}),
                "lastmod": max(o["price_changed_at"] for o in model_offers),
                "last_seen": max(o["last_seen_at"] for o in model_offers),
            }
        )
    return sorted(summaries, key=lambda s: (s["min"], s["model"]["slug"]))


def home_pages(connection: Connection, site: SiteConfig) -> Iterator[Page]:
    summaries = _summaries(connection)
    if not summaries:
        return
    providers = sorted({p for s in summaries for p in s["providers"]})
    cheapest = summaries[0]
    yield Page(
        kind="home",
        url="/",
        template="cloudgpus/home.html",
        title=f"{site.title}: compare GPU cloud prices across {len(providers)} providers",
        description=(
            f"Current hourly prices for {len(summaries)} GPU models from {len(providers)} cloud"
            f" providers; the cheapest is the {cheapest['model']['name']} from"
            f" ${cheapest['min']:.2f} per GPU-hour."
        ),
        context={"summaries": summaries, "providers": providers},
        lastmod=max(s["lastmod"] for s in summaries),
    )


def gpu_pages(connection: Connection, site: SiteConfig) -> Iterator[Page]:
    for summary in _summaries(connection):
        model = summary["model"]
        url = f"/gpus/{model['slug']}/"
        offers = summary["offers"]
        yield Page(
            kind="gpu",
            url=url,
            template="cloudgpus/gpu.html",
            title=f"{model['name']} cloud prices: from ${summary['min']:.2f}/GPU-hour",
            description=(
                f"{len(offers)} current {model['name']} ({model['vram_gb']} GB) offers from"
                f" {len(summary['providers'])} providers: ${summary['min']:.2f} to"
                f" ${summary['max']:.2f} per GPU-hour, median ${summary['median']:.2f}."
            ),
            context={"summary": summary, "model": model},
            lastmod=summary["lastmod"],
            breadcrumbs=(HOME, Breadcrumb("GPUs", "/#gpus"), Breadcrumb(model["name"], url)),
            json_ld=(
                {
                    "@context": "https://schema.org",
                    "@type": "Product",
                    "name": model["name"],
                    "category": "Cloud GPU rental",
                    "brand": {"@type": "Brand", "name": model["vendor"].upper()},
                    "url": site.base_url + url,
                    "offers": {
                        "@type": "AggregateOffer",
                        "priceCurrency": "USD",
                        "lowPrice": str(summary["min"]),
                        "highPrice": str(summary["max"]),
                        "offerCount": len(offers),
                    },
                },
            ),
        )


def not_found_page(site: SiteConfig) -> Page:
    return Page(
        kind="404",
        url="/404.html",
        template="cloudgpus/404.html",
        title=f"Page not found · {site.title}",
        description="This page does not exist. Browse current GPU cloud prices instead.",
        context={},
        indexable=False,
    )


def static_files(site: SiteConfig) -> Iterator[tuple[str, bytes]]:
    return iter(())


PAGE_KINDS = {"home": home_pages, "gpu": gpu_pages}
