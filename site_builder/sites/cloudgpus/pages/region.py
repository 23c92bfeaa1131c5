"""A provider's offers in one region, where it has enough of them."""

from __future__ import annotations

from collections.abc import Iterator

from slugify import slugify

from site_builder.config import SiteConfig
from site_builder.render.page import Breadcrumb, Page
from site_builder.sites.cloudgpus.common import (
    HOME,
    PROVIDERS,
    Dataset,
    figures,
    group_by,
    price_from,
)


def region_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    for provider_slug, offers in group_by(data.offers, "provider_slug").items():
        provider = data.providers[provider_slug]
        for region, group in group_by(offers, "region_code").items():
            if len(group) < site.quality.min_offers_per_region:
                continue
            f = figures(group)
            name = group[0]["region_name"] or region
            url = f"/providers/{provider_slug}/regions/{slugify(region)}/"
            yield Page(
                kind="region",
                url=url,
                template="cloudgpus/region.html",
                title=(
                    f"{provider['name']} GPUs in {name}: {len(group)} offers from"
                    f" {price_from(f)}/GPU-hour"
                ),
                description=(
                    f"GPU prices at {provider['name']} in {name} ({region}): {len(group)}"
                    " offers for"
                    f" {len({o['gpu_model_slug'] for o in group})} GPU models."
                ),
                context={
                    "provider": provider,
                    "region": region,
                    "name": name,
                    "f": f,
                    "offers": group,
                    "models": data.models,
                },
                lastmod=f["lastmod"],
                breadcrumbs=(
                    HOME,
                    PROVIDERS,
                    Breadcrumb(provider["name"], f"/providers/{provider_slug}/"),
                    Breadcrumb(name, url),
                ),
            )
