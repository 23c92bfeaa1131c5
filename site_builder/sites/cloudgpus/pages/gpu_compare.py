"""GPU vs GPU, for meaningful pairs (see `common.comparable`)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import combinations

from site_builder.config import SiteConfig
from site_builder.render.environment import usd
from site_builder.render.page import Breadcrumb, Page
from site_builder.sites.cloudgpus.common import (
    GPUS,
    HOME,
    Dataset,
    comparable,
    figures,
    group_by,
    price_from,
)
from site_builder.sites.cloudgpus.specs import paired_rows, spec_sheet, value_for_money


def gpu_compare_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    """GPU vs GPU for meaningful pairs (see `comparable`)."""
    by_model = group_by(data.offers, "gpu_model_slug")
    for a, b in combinations(sorted(by_model), 2):
        if not comparable(data, by_model, a, b):
            continue
        ma, mb = data.models[a], data.models[b]
        fa, fb = figures(by_model[a]), figures(by_model[b])
        per_gb = {
            side: (f["kinds"]["on_demand"]["min"] / m["vram_gb"]).quantize(Decimal("0.0001"))
            for side, f, m in (("a", fa, ma), ("b", fb, mb))
        }
        sheets = [spec_sheet(data.specs[s]) if s in data.specs else None for s in (a, b)]
        url = f"/gpus/compare/{a}-vs-{b}/"
        yield Page(
            kind="gpu_compare",
            url=url,
            template="cloudgpus/gpu_compare.html",
            title=f"{ma['name']} vs {mb['name']}: specs and cloud prices side by side",
            description=(
                f"{ma['name']} ({ma['vram_gb']} GB) from {price_from(fa)} against {mb['name']}"
                f" ({mb['vram_gb']} GB) from {price_from(fb)} per GPU-hour on demand;"
                " price per GB of"
                f" VRAM {usd(per_gb['a'])} vs {usd(per_gb['b'])}."
            ),
            context={
                **{
                    side: {
                        "model": m,
                        "f": f,
                        "per_gb": per_gb[side],
                        "value": value_for_money(data.specs.get(m["slug"]), f),
                        "spec": sheet,
                    }
                    for side, m, f, sheet in (("a", ma, fa, sheets[0]), ("b", mb, fb, sheets[1]))
                },
                "spec_rows": paired_rows(*sheets),
            },
            lastmod=max(fa["lastmod"], fb["lastmod"]),
            breadcrumbs=(HOME, GPUS, Breadcrumb(f"{ma['name']} vs {mb['name']}", url)),
        )
