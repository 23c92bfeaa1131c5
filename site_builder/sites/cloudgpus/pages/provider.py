"""Provider pages: the hub and one page per provider with its models, regions and rivals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from markupsafe import Markup
from slugify import slugify

from site_builder.config import SiteConfig
from site_builder.render.charts import Series, line_chart
from site_builder.render.page import Breadcrumb, Page
from site_builder.sites.cloudgpus.common import (
    HOME,
    KIND_NAMES,
    PROVIDERS,
    Dataset,
    chart_usd,
    figures,
    group_by,
    price_from,
    price_source,
)
from site_builder.sites.cloudgpus.history import CHART_DAYS, daily_lowest

# Lines on one provider chart: its GPU models with the most on-demand offers. More lines
# than this are a tangle (and a wide values table); every model has its own chart on its
# GPU-at-provider page.
CHART_MODELS = 4


def _history_chart(
    data: Dataset,
    provider: dict[str, Any],
    offers: list[dict[str, Any]],
    points: dict[str, list[dict[str, Any]]],
) -> Markup:
    """The lowest on-demand price per GPU-hour of the provider's main GPU models, a line
    each, over the last 90 days of history (an aggregator has none: see `load`)."""
    counts: dict[str, int] = defaultdict(int)
    for o in offers:
        if o["pricing_kind"] == "on_demand":
            counts[o["gpu_model_slug"]] += 1
    chosen = sorted(counts, key=lambda m: (-counts[m], m))[:CHART_MODELS]
    return line_chart(
        f"{provider['name']}: lowest on-demand price per GPU-hour",
        [Series(data.models[m]["name"], daily_lowest(points.get(m, []))) for m in chosen],
        unit=chart_usd,
        caption=(
            f"Lowest on-demand price per GPU-hour of {provider['name']}'s"
            f" {'main GPU models' if len(counts) > len(chosen) else 'GPU models'} on each day"
            f" we pulled prices (the last {CHART_DAYS} days)."
        ),
    )


def provider_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    hub = []
    by_provider = group_by(data.offers, "provider_slug")
    # provider -> model -> its history points: one pass over the history, not one a provider
    history: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for model_slug, rows in data.history.items():
        for row in rows:
            history[row["provider_slug"]][model_slug].append(row)
    for slug, offers in by_provider.items():
        provider = data.providers[slug]
        f = figures(offers)
        url = f"/providers/{slug}/"
        hub.append({"provider": provider, "f": f, "url": url})
        models = [
            {"model": data.models[m], "f": figures(g), "url": f"/gpus/{m}/{slug}/"}
            for m, g in group_by(offers, "gpu_model_slug").items()
        ]
        regions = [
            {
                "code": code,
                "name": group[0]["region_name"] or code,
                "offers": len(group),
                "url": f"/providers/{slug}/regions/{slugify(code)}/"
                if len(group) >= site.quality.min_offers_per_region
                else None,
            }
            for code, group in group_by(offers, "region_code").items()
        ]
        mine = {o["gpu_model_slug"] for o in offers}
        rivals = [
            {"name": other["name"], "url": "/compare/{}-vs-{}/".format(*sorted((slug, other_slug)))}
            for other_slug, other in data.providers.items()
            if other_slug != slug and mine & {o["gpu_model_slug"] for o in by_provider[other_slug]}
        ]
        on_request = [
            {
                **r,
                "kind": KIND_NAMES[r["pricing_kind"]]
                + (f" ({r['reserved_term']})" if r["reserved_term"] else ""),
            }
            for r in data.on_request
            if r["provider_slug"] == slug
        ]
        as_of = next(
            (
                o["details"].get("as_of")
                for o in offers
                if isinstance(o["details"], dict) and o["details"].get("as_of")
            ),
            None,
        )
        yield Page(
            kind="provider",
            url=url,
            template="cloudgpus/provider.html",
            title=(
                f"{provider['name']} GPU prices: {len(models)} GPU models in {len(regions)} regions"
            ),
            description=(
                f"{provider['name']}'s current GPU cloud prices: {len(offers)} offers for"
                f" {len(models)} GPU models, from {price_from(f)} per GPU-hour on demand."
            ),
            context={
                "provider": provider,
                "f": f,
                "models": models,
                "regions": regions,
                "rivals": rivals,
                "as_of": as_of,
                "on_request": on_request,
                "source": price_source(provider, offers),
                "chart": _history_chart(data, provider, offers, history.get(slug, {})),
            },
            lastmod=f["lastmod"],
            breadcrumbs=(HOME, PROVIDERS, Breadcrumb(provider["name"], url)),
        )
    yield Page(
        kind="provider",
        url="/providers/",
        template="cloudgpus/provider_hub.html",
        title=f"{len(hub)} GPU cloud providers compared",
        description=(
            "Every GPU cloud provider we track: GPU models, offers, lowest price and how fresh"
            " its prices are."
        ),
        context={"rows": hub},
        lastmod=max(r["f"]["lastmod"] for r in hub),
        breadcrumbs=(HOME, PROVIDERS),
    )
