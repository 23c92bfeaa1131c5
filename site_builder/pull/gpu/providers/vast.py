"""Vast.ai marketplace offers, aggregated per GPU model, country and pricing kind.

API quirks, from the Vast docs and gpuhunt:
- ``POST https://console.vast.ai/api/v0/bundles/`` with a JSON query; Bearer auth per the
  docs, though anonymous queries are answered (``VAST_API_KEY`` is used when set).
- Filters are server-side (``{"rentable": {"eq": true}, ...}``, operators lt/lte/eq/gte/gt/
  in/notin) and ``limit`` caps the answer; we ask verified, rentable, unrented machines,
  once for on-demand and once for interruptible (``"type": "bid"``) offers.
- Each offer is one host machine: ``dph_total`` is USD per hour for all ``num_gpus`` (it
  includes the default disk); ``min_bid`` is the lowest interruptible bid. ``gpu_ram`` and
  ``cpu_ram`` are in **MB**. ``geolocation`` is "City, CC", "Region, CC" or null.
- GPU names are spaced and inconsistent ("RTX A6000", "RTX 6000Ada", "A100 SXM4").
- Marketplace prices move by the minute and thousands of offers come and go, so we do not
  store single offers: per GPU model x country x kind we keep the **median** per-GPU price
  as the price, with min, p10, median and count in ``details``. Only rentable offers are
  listed, so an aggregate is available by construction.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, PricingKind, RawResponse
from site_builder.pull.gpu.providers.base import (
    Adapter,
    bearer,
    field,
    load_json,
    money,
    record,
    response_named,
)

API_URL = "https://console.vast.ai/api/v0/bundles/"
LIMIT = 1000
KINDS: dict[str, PricingKind] = {"on-demand": "on_demand", "bid": "spot"}


def query(offer_type: str) -> dict[str, object]:
    return {
        "rentable": {"eq": True},
        "rented": {"eq": False},
        "verified": {"eq": True},
        "num_gpus": {"gte": 1},
        "type": offer_type,
        "order": [["dph_total", "asc"]],
        "limit": LIMIT,
    }


def percentile(sorted_values: list[Decimal], fraction: float) -> Decimal:
    """Linear interpolation between closest ranks, as numpy's default does."""
    position = (len(sorted_values) - 1) * Decimal(str(fraction))
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


class VastAdapter(Adapter):
    slug = "vast"
    name = "Vast.ai"
    website = "https://vast.ai"
    optional_env = ("VAST_API_KEY",)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        headers = bearer(credentials, "VAST_API_KEY")
        responses = []
        for offer_type in KINDS:
            response = await http.post(self.url(API_URL), json=query(offer_type), headers=headers)
            responses.append(record(f"bundles-{offer_type}", response))
        return responses

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        offers = []
        for offer_type, kind in KINDS.items():
            response = response_named(responses, self.slug, f"bundles-{offer_type}")
            payload = load_json(response, self.slug)
            machines = field(payload, "offers", provider=self.slug, where=response.name)
            if not isinstance(machines, list):
                raise DataError(f"{self.slug}: {response.name}: 'offers' is not a list")
            groups: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
            for machine in machines:
                where = f"{response.name} offer {machine.get('id')!r}"
                gpu_name = field(machine, "gpu_name", provider=self.slug, where=where)
                gpus = field(machine, "num_gpus", provider=self.slug, where=where)
                price_field = "min_bid" if kind == "spot" else "dph_total"
                value = field(machine, price_field, provider=self.slug, where=where)
                if not isinstance(gpus, int) or gpus < 1 or value is None:
                    continue  # a fractional or bid-less listing: not a whole-GPU offer
                price = money(value, provider=self.slug, where=where) / gpus
                groups[(gpu_name, _country(machine.get("geolocation")))].append(price)
            for (gpu_name, country), prices in sorted(groups.items()):
                prices.sort()
                median = statistics.median(prices)
                offers.append(
                    ParsedOffer(
                        provider=self.slug,
                        instance_type=f"{gpu_name} (marketplace)",
                        raw_gpu_name=gpu_name,
                        gpu_count=1,
                        region_code=country.lower() if country else "unknown",
                        region_name=country or "Location not stated",
                        region_country=country or None,
                        pricing_kind=kind,
                        price=median,
                        price_basis="gpu",
                        currency="USD",
                        raw_price=str(median),
                        raw_unit="USD / GPU-hour, median of marketplace offers",
                        observed_at=response.fetched_at,
                        available=True,
                        details={
                            "aggregate": "median",
                            "offers": len(prices),
                            "min": str(prices[0]),
                            "p10": str(percentile(prices, 0.1)),
                            "median": str(median),
                        },
                    )
                )
        return offers


def _country(geolocation: object) -> str:
    """ "Texas, US" -> "US"; anything without a two-letter country code -> ""."""
    if not isinstance(geolocation, str) or "," not in geolocation:
        return ""
    code = geolocation.rsplit(",", 1)[1].strip().upper()
    return code if len(code) == 2 and code.isalpha() else ""
