"""The live-data blocks editors may use in content/cloudgpus/*.md (see docs/pages.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup

from site_builder.sites.cloudgpus.common import KINDS, Dataset, figures, group_by


def blocks(environment: Any) -> dict[str, Any]:
    """The blocks editors can use in content/cloudgpus/*.md (see docs/content.md)."""

    def gpu_prices(data: Dataset, args: list[str]) -> tuple[Any, datetime | None]:
        if not args or len(args) > 2:
            raise ValueError("usage: ::: gpu-prices <gpu-slug> [on_demand|spot|reserved]")
        slug, kind = args[0], (args[1] if len(args) == 2 else None)
        if slug not in data.models:
            raise ValueError(f"no current offers for GPU {slug!r}")
        if kind is not None and kind not in KINDS:
            raise ValueError(f"pricing kind must be one of {', '.join(KINDS)}, not {kind!r}")
        offers = [
            o
            for o in data.offers
            if o["gpu_model_slug"] == slug and (kind is None or o["pricing_kind"] == kind)
        ]
        if not offers:
            raise ValueError(f"no current {kind} offers for GPU {slug!r}")
        f = figures(offers)
        html = environment.get_template("cloudgpus/block_gpu_prices.html").render(
            model=data.models[slug], offers=offers[:25], more=len(offers) - 25, f=f
        )
        return Markup(html), f["lastmod"]

    def cheapest_gpus(data: Dataset, args: list[str]) -> tuple[Any, datetime | None]:
        try:
            limit = int(args[0]) if args else 10
        except ValueError:
            raise ValueError(
                f"the number of GPUs must be a whole number, not {args[0]!r}"
            ) from None
        rows = []
        for slug, offers in group_by(data.offers, "gpu_model_slug").items():
            f = figures(offers)
            if f["kinds"].get("on_demand"):
                rows.append({"model": data.models[slug], "f": f})
        rows.sort(key=lambda r: (r["f"]["kinds"]["on_demand"]["min"], r["model"]["slug"]))
        html = environment.get_template("cloudgpus/block_cheapest_gpus.html").render(
            rows=rows[:limit]
        )
        return Markup(html), max(r["f"]["lastmod"] for r in rows)

    return {"gpu-prices": gpu_prices, "cheapest-gpus": cheapest_gpus}
