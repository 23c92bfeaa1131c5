"""All GPU offers in data centres of one country."""

from __future__ import annotations

from collections.abc import Iterator

from site_builder.config import SiteConfig
from site_builder.render.page import Breadcrumb, Page
from site_builder.sites.cloudgpus.common import (
    HOME,
    Dataset,
    country_name,
    figures,
    gpu_countries,
    price_from,
)


def country_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    """All GPU offers in data centres of one country."""
    for code, offers in gpu_countries(data.offers, site).items():
        name = country_name(code)
        f = figures(offers)
        url = f"/countries/{code.lower()}/"
        yield Page(
            kind="country",
            url=url,
            template="cloudgpus/country.html",
            title=(
                f"GPU cloud prices in {name}: {len(offers)} offers, {len(f['providers'])} providers"
            ),
            description=(
                f"Every GPU you can rent in data centres in {name}: {len(offers)} offers for"
                f" {len({o['gpu_model_slug'] for o in offers})} GPU models, from"
                f" {price_from(f)} per"
                " GPU-hour on demand."
            ),
            context={"name": name, "f": f, "offers": offers, "models": data.models},
            lastmod=f["lastmod"],
            breadcrumbs=(HOME, Breadcrumb(f"GPUs in {name}", url)),
        )
