"""The cost calculator: every GPU model with an on-demand price."""

from __future__ import annotations

from collections.abc import Iterator

from site_builder.config import SiteConfig
from site_builder.render.page import Breadcrumb, Page
from site_builder.sites.cloudgpus.common import HOME, Dataset, figures, group_by


def calculator_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    rows = []
    for slug, offers in group_by(data.offers, "gpu_model_slug").items():
        f = figures(offers)
        if f["kinds"].get("on_demand"):
            rows.append({"model": data.models[slug], "f": f})
    yield Page(
        kind="calculator",
        url="/calculator/",
        template="cloudgpus/calculator.html",
        title="GPU cloud cost calculator: hours, GPUs and the cheapest current price",
        description=(
            f"Estimate the cost of a training or inference job on {len(rows)} GPU models at"
            " today's lowest on-demand prices."
        ),
        context={"rows": rows},
        lastmod=max(r["f"]["lastmod"] for r in rows),
        breadcrumbs=(HOME, Breadcrumb("Cost calculator", "/calculator/")),
    )
