"""The home page: every GPU model's lowest price, the latest moves, countries and providers."""

from __future__ import annotations

from collections.abc import Iterator

from site_builder.config import SiteConfig
from site_builder.render.page import Page
from site_builder.sites.cloudgpus.common import (
    Dataset,
    country_name,
    figures,
    gpu_countries,
    group_by,
    price_from,
)


def home_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    rows = []
    for slug, offers in group_by(data.offers, "gpu_model_slug").items():
        rows.append({"model": data.models[slug], "f": figures(offers)})
    rows.sort(key=lambda r: (r["f"]["headline"]["min"], r["model"]["slug"]))
    # The newest on-demand price moves with their old price (history.py): an offer's
    # price_changed_at also moves when only its availability does, which is no price change.
    moves = sorted(
        (c for c in data.changes if c["pricing_kind"] == "on_demand"),
        key=lambda c: (-c["changed_on"].toordinal(), c["change_pct"], c["offer_id"]),
    )[:10]
    yield Page(
        kind="home",
        url="/",
        template="cloudgpus/home.html",
        title=f"{site.title}: compare GPU cloud prices across {len(data.providers)} providers",
        description=(
            f"Current hourly prices for {len(rows)} GPU models from {len(data.providers)} cloud"
            f" providers; the cheapest on demand is the {rows[0]['model']['name']} from"
            f" {price_from(rows[0]['f'])} per GPU-hour."
        ),
        context={
            "rows": rows,
            "countries": [
                {"code": c.lower(), "name": country_name(c)}
                for c in sorted(gpu_countries(data.offers, site))
            ],
            "providers": list(data.providers.values()),
            "moves": moves,
            "as_of": data.as_of,
        },
        lastmod=max(r["f"]["lastmod"] for r in rows),
    )
