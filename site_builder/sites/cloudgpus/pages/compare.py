"""Provider vs provider, for each pair that rents at least one GPU model in common."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

from site_builder.config import SiteConfig
from site_builder.render.page import Breadcrumb, Page
from site_builder.sites.cloudgpus.common import HOME, PROVIDERS, Dataset, figures, group_by


def compare_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    by_provider = group_by(data.offers, "provider_slug")
    for (a, a_offers), (b, b_offers) in combinations(by_provider.items(), 2):
        a_models, b_models = (
            group_by(a_offers, "gpu_model_slug"),
            group_by(b_offers, "gpu_model_slug"),
        )
        common = sorted(set(a_models) & set(b_models))
        if not common:
            continue
        pa, pb = data.providers[a], data.providers[b]
        rows = [
            {
                "model": data.models[m],
                "a": figures(a_models[m]),
                "b": figures(b_models[m]),
                "url": f"/gpus/{m}/",
            }
            for m in common
        ]
        cheaper_a = sum(
            1
            for r in rows
            if r["a"]["headline"]
            and r["b"]["headline"]
            and r["a"]["headline"]["min"] < r["b"]["headline"]["min"]
        )
        url = f"/compare/{a}-vs-{b}/"
        yield Page(
            kind="compare",
            url=url,
            template="cloudgpus/compare.html",
            title=f"{pa['name']} vs {pb['name']}: GPU prices compared on {len(common)} GPU models",
            description=(
                f"{pa['name']} and {pb['name']} both rent {len(common)} GPU models; {pa['name']} is"
                f" cheaper on {cheaper_a} of them, {pb['name']} on {len(common) - cheaper_a}."
            ),
            context={"a": pa, "b": pb, "rows": rows},
            lastmod=max(figures(a_offers)["lastmod"], figures(b_offers)["lastmod"]),
            breadcrumbs=(HOME, PROVIDERS, Breadcrumb(f"{pa['name']} vs {pb['name']}", url)),
        )
