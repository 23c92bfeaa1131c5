"""The home page: every GPU model's lowest price, the latest moves, countries and providers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

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

LATEST_MOVES = 10


def latest_moves(changes: Iterable[Mapping[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The newest on-demand price moves (newest first, then the biggest cut), one entry per
    move: a provider that re-prices a GPU model moves several offers (sizes, regions) by the
    same share on the same day, and that is one piece of news, listed once with its offers.
    Each entry is its cheapest offer's change, with `offers`, `regions` and `one_price`
    (whether every offer has that price).

    An offer's price_changed_at also moves when only its availability does, which is no price
    change: the moves come from the price history (history.py)."""
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for change in changes:
        if change["pricing_kind"] == "on_demand":
            key = tuple(
                change[name]
                for name in ("provider_slug", "gpu_model_slug", "changed_on", "change_pct")
            )
            groups.setdefault(key, []).append(change)
    moves = []
    for group in groups.values():
        offers = sorted(group, key=lambda c: (c["new_price"], _region(c), c["offer_id"]))
        moves.append(
            {
                **offers[0],
                "offers": offers,
                "regions": sorted({_region(c) for c in offers}),
                "one_price": len({c["new_price"] for c in offers}) == 1,
            }
        )
    moves.sort(key=lambda m: (-m["changed_on"].toordinal(), m["change_pct"], m["offer_id"]))
    return moves[:limit]


def _region(change: Mapping[str, Any]) -> str:
    return change["region_name"] or change["region_code"]


def home_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    rows = []
    for slug, offers in group_by(data.offers, "gpu_model_slug").items():
        rows.append({"model": data.models[slug], "f": figures(offers)})
    rows.sort(key=lambda r: (r["f"]["headline"]["min"], r["model"]["slug"]))
    moves = latest_moves(data.changes, LATEST_MOVES)
    for move in moves:
        move["model_name"] = data.models[move["gpu_model_slug"]]["name"]
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
