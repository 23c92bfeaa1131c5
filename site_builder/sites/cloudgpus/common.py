"""What the cloudgpus page kinds share: the dataset, the figures of a set of offers, grouping,
breadcrumbs and names.

On-demand, spot and reserved prices are never mixed in one figure: headlines use on-demand
prices.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pycountry

from site_builder.config import SiteConfig
from site_builder.render.environment import usd
from site_builder.render.page import Breadcrumb

HOME = Breadcrumb("Home", "/")


GPUS = Breadcrumb("GPUs", "/gpus/")


PROVIDERS = Breadcrumb("Providers", "/providers/")


KINDS = ("on_demand", "spot", "reserved")


KIND_NAMES = {"on_demand": "on-demand", "spot": "spot", "reserved": "reserved"}


@dataclass(frozen=True)
class Dataset:
    offers: list[dict[str, Any]]
    models: dict[str, dict[str, Any]]  # slug -> model, only models with offers
    providers: dict[str, dict[str, Any]]  # slug -> provider with pull health
    history: dict[str, list[dict[str, Any]]]  # model slug -> daily points
    as_of: datetime
    status: dict[str, Any] | None = None  # the public status page's (ops.public)
    # Offers listed without a price ("price on request"): shown as such, never in a figure.
    on_request: list[dict[str, Any]] = field(default_factory=list)
    # Spec-sheet figures by model slug (`specs.GpuSpec`, from data/gpu_specs.toml): a model
    # without an entry shows no spec figures and no price per unit of performance.
    specs: dict[str, Any] = field(default_factory=dict)
    # Offers whose price changed in the window ending at `history_end` (history.py), biggest
    # drop first; `history_end` is the newest day of price history (None: none yet).
    changes: list[dict[str, Any]] = field(default_factory=list)
    history_end: date | None = None


def via(offer: dict[str, Any]) -> str | None:
    """The cloud underneath an aggregator's offer (Shadeform, Prime Intellect), else None."""
    details = offer.get("details")
    return details.get("via") if isinstance(details, dict) else None


def counted(offers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The offers a price figure counts: aggregators list other clouds' capacity, often the
    same capacity those clouds list themselves, so their offers are left out wherever direct
    offers exist. A set of aggregator offers only (an aggregator's own page) counts one
    aggregator's offers, never two aggregators' listings of the same machines."""
    direct = [o for o in offers if not via(o)]
    if direct or not offers:
        return direct
    first = min(o["provider_slug"] for o in offers)
    return [o for o in offers if o["provider_slug"] == first]


def figures(offers: list[dict[str, Any]]) -> dict[str, Any]:
    """Min / median / max per pricing kind, sample sizes and freshness of a set of offers
    (aggregator offers left out where direct offers exist: see `counted`)."""
    by_kind: dict[str, Any] = {}
    priced = counted(offers)
    for kind in KINDS:
        prices = sorted(o["price_per_gpu_usd"] for o in priced if o["pricing_kind"] == kind)
        if prices:
            by_kind[kind] = {
                "min": prices[0],
                "median": Decimal(statistics.median(prices)).quantize(Decimal("0.0001")),
                "max": prices[-1],
                "count": len(prices),
            }
    return {
        "kinds": by_kind,
        "headline": (by_kind.get("on_demand") or next(iter(by_kind.values()), None)),
        "offers": len(offers),
        "not_counted": len(offers) - len(priced),  # aggregator offers left out
        "providers": sorted({o["provider_name"] for o in offers}),
        "lastmod": max(o["price_changed_at"] for o in offers),
        "last_seen": max(o["last_seen_at"] for o in offers),
    }


def group_by(offers: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for offer in offers:
        groups[offer[key]].append(offer)
    return dict(sorted(groups.items()))


def price_from(f: dict[str, Any]) -> str:
    headline = f["headline"]
    return usd(headline["min"]) if headline else "—"


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


def gpu_countries(
    offers: list[dict[str, Any]], site: SiteConfig
) -> dict[str, list[dict[str, Any]]]:
    """Country code -> offers in regions there, for the GPU x country pages that exist."""
    groups = group_by([o for o in offers if o["region_country"]], "region_country")
    return {c: g for c, g in groups.items() if len(g) >= site.quality.min_offers_per_region}


def comparable(data: Dataset, by_model: dict[str, list[dict[str, Any]]], a: str, b: str) -> bool:
    """A meaningful GPU pair: same vendor, VRAM within a factor of two, both on demand."""
    ma, mb = data.models[a], data.models[b]
    return (
        ma["vendor"] == mb["vendor"]
        and max(ma["vram_gb"], mb["vram_gb"]) <= 2 * min(ma["vram_gb"], mb["vram_gb"])
        and any(o["pricing_kind"] == "on_demand" for o in by_model[a])
        and any(o["pricing_kind"] == "on_demand" for o in by_model[b])
    )


# Providers whose price source is a public, documented catalog anyone can read (no account):
# machine-readable list prices rather than an account's API view.
PUBLIC_CATALOGS = frozenset({"aws", "azure", "cloudrift", "gcp", "linode", "oci", "vultr"})


def price_source(provider: dict[str, Any], offers: list[dict[str, Any]]) -> dict[str, Any]:
    """How a provider's prices are obtained, in words for its page, and when they were last
    confirmed (the last successful pull; a dated table's date as well)."""
    slug, name = provider["slug"], provider["name"]
    source = provider.get("pricing_source")
    as_of = next(
        (
            o["details"]["as_of"]
            for o in offers
            if isinstance(o["details"], dict) and o["details"].get("as_of")
        ),
        None,
    )
    if source == "static":
        method = "editor's dated table"
        text = (
            f"{name} publishes no price API we can read: an editor copies its public price"
            " page into a dated table"
        )
    elif source == "html":
        method = "scraped page"
        text = f"Read from {name}'s public pricing page (a page layout, not an API: it can change)"
    elif any(via(o) for o in offers):
        method = "aggregator API"
        text = (
            f"From {name}'s API. {name} is an aggregator: it resells other clouds' machines, so"
            ' each offer names the cloud underneath ("via"), and these offers count in no'
            " GPU's lowest or median price where that GPU has direct offers"
        )
    elif slug in PUBLIC_CATALOGS:
        method = "documented catalog"
        text = f"From {name}'s public, documented price catalog (machine-readable list prices)"
    else:
        method = "API"
        text = f"From {name}'s API (with an account's key), as {name} quotes them to customers"
    notes = sorted(
        {
            str(o["details"]["source"])
            for o in offers
            if isinstance(o["details"], dict)
            and o["details"].get("source")
            and o["details"]["source"] != "static table"
        }
    )
    return {
        "method": method,
        "text": text,
        "notes": notes,  # e.g. AWS spot: "EC2 console spot feed (public but undocumented by AWS)"
        "as_of": as_of,
        "confirmed": provider.get("last_success_at")
        or (provider.get("last_run_at") if provider.get("last_status") == "ok" else None),
    }


def chart_usd(value: float) -> str:
    """A price chart's label and value: the site's price format (4 places below $0.10, so a
    cheap GPU's move is not rounded away), but a plain "$0.00" at the zero line."""
    return "$0.00" if value == 0 else usd(Decimal(str(value)))
