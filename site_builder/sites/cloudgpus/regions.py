"""Region names a visitor can read, for providers whose API sends only a code.

Some adapters store the provider's region code as its name ("BR", "CANADA-1",
"us-santaclara-1", "europe-west4"). Pages show a place instead: a known code's city or
area from the provider's public region list (below), else the country the adapter
recorded, else the provider's own name unchanged. Sources (checked 2026-12-04):
Google Cloud "Regions and zones" (cloud.google.com/compute/docs/regions-zones), Nebius AI
Cloud "Regions" (docs.nebius.com/overview/regions), Cudo Compute's data-centre list
(cudocompute.com/regions), Azure's region list (learn.microsoft.com/azure/reliability/
regions-list). Evidence for Cudo's and Hyperstack's city names is thin: where the code
names only a country, the page says only the country.
"""

from __future__ import annotations

from typing import Any

import pycountry

# provider slug -> region code -> the place, as the provider's public list names it.
KNOWN: dict[str, dict[str, str]] = {
    "gcp": {
        "asia-northeast1": "Tokyo, Japan",
        "asia-southeast1": "Singapore",
        "europe-west1": "Belgium",
        "europe-west4": "Netherlands",
        "us-central1": "Iowa, United States",
        "us-east4": "Northern Virginia, United States",
        "us-west1": "Oregon, United States",
    },
    "nebius": {
        "eu-north1": "Finland",
        "eu-north2": "Iceland",
        "eu-west1": "Paris, France",
        "me-west1": "Israel",
        "uk-south1": "London, United Kingdom",
        "us-central1": "Kansas City, United States",
    },
    "cudo": {
        "ca-montreal-2": "Montreal, Canada",
        "gb-bournemouth-1": "Bournemouth, United Kingdom",
        "no-luster-1": "Luster, Norway",
        "se-smedjebacken-1": "Smedjebacken, Sweden",
        "us-santaclara-1": "Santa Clara, United States",
    },
    "azure": {"japaneast": "Japan East"},
}


def country_name(code: str) -> str | None:
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return None
    return getattr(country, "common_name", None) or country.name


def region_label(provider: str, code: str, name: str | None, country: str | None) -> str:
    """What a visitor reads for this region (pure)."""
    known = KNOWN.get(provider, {}).get(code)
    if known:
        return known
    raw = not name or name.replace("_", "-").lower() == code.lower()
    if not raw and name:
        return name
    place = country_name(country) if country else None
    if place is None:
        return name or code
    # "CANADA-1" and "CANADA-2" stay apart; a code that is just the country says the country.
    suffix = code.rsplit("-", 1)[-1] if "-" in code else ""
    return f"{place} {suffix}" if suffix.isdigit() and suffix != "1" else place


def with_region_labels(offers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The offers with region_name replaced by its readable label (the code stays)."""
    labels: dict[tuple[str, str], str] = {}
    for offer in offers:
        key = (offer["provider_slug"], offer["region_code"])
        if key not in labels:
            labels[key] = region_label(
                key[0], key[1], offer.get("region_name"), offer.get("region_country")
            )
        offer["region_name"] = labels[key]
    return offers
