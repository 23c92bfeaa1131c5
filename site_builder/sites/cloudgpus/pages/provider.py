"""Provider pages: the hub and one page per provider with its models, regions and rivals."""

from __future__ import annotations

from collections.abc import Iterator

from slugify import slugify

from site_builder.config import SiteConfig
from site_builder.render.page import Breadcrumb, Page
from site_builder.sites.cloudgpus.common import (
    HOME,
    KIND_NAMES,
    PROVIDERS,
    Dataset,
    figures,
    group_by,
    price_from,
    price_source,
)


def provider_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    hub = []
    by_provider = group_by(data.offers, "provider_slug")
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
