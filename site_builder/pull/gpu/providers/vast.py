"""Vast.ai marketplace offers, aggregated per GPU model, country and pricing kind.

Sources (checked 2026-12-04):
- Search API: https://docs.vast.ai/api-reference/search/search-offers (``POST
  /api/v0/bundles/``, query operators, ``limit``, ``order``).
- gpuhunt ``src/gpuhunt/providers/vastai.py`` (github dstackai/gpuhunt, 3584151): the body
  (``rentable``/``rented`` filters, ``gpu_name`` ``in``), offer fields (``num_gpus``,
  ``gpu_ram`` in MB, ``dph_base``, ``min_bid``, ``geolocation``), Vast's GPU names; it
  prices a spot offer as ``min_bid`` for the **whole offer**, like ``dph``.
- SkyPilot ``sky/catalog/data_fetchers/fetch_vast.py``: ``min_bid`` taken as the offer's
  spot price next to its total hourly price (again per offer, not per GPU).
- ``vastai change bid`` (renter side): "per machine bid price in $/hour"
  https://docs.vast.ai/cli/reference/change-bid ; ``vastai set min-bid`` (host side): "per
  gpu min bid price" https://docs.vast.ai/host/cli/set-min-bid .

API quirks:
- ``POST https://console.vast.ai/api/v0/bundles/`` with a JSON query; Bearer auth per the
  docs, though anonymous queries are answered (``VAST_API_KEY`` is used when set).
- Filters are server-side (``{"rentable": {"eq": true}, ...}``, operators lt/lte/eq/gte/gt/
  in/notin) and ``limit`` caps the answer. A single query capped at 1,000 offers, cheapest
  first, keeps only cheap single-GPU machines and drops the expensive multi-GPU ones, which
  biases every median low. So we ask **once per GPU model** (``gpu_name`` ``eq``, Vast's
  spelling, list below), each capped at ``LIMIT``, plus one query for every other name
  (``gpu_name`` ``notin`` the list) so a new model is still seen (and quarantined as
  unknown until the catalog knows it): the first alone, then four at a time (a failure
  stops the rest). A model whose answer hits the cap says so in ``details.capped``.
- Each offer is one host machine: ``dph_total`` is USD per hour for all ``num_gpus`` (it
  includes the default disk). ``min_bid`` is the lowest interruptible bid **for the whole
  offer** (all its GPUs): the renter bids per machine, and both gpuhunt and SkyPilot read
  it that way; the host sets a per-GPU minimum that the offer scales. Both are divided by
  ``num_gpus`` for a per-GPU price. ``geolocation`` is "City, CC", "Region, CC" or null.
- GPU names are spaced and inconsistent ("RTX A6000", "RTX 6000Ada", "A100 SXM4").
- Marketplace prices move by the minute, so we do not store single offers: per GPU model x
  country x kind we keep the **median** per-GPU price as the price, with min, p10,
  median and count in ``details``. Only rentable offers are listed, so an aggregate is
  available by construction.
- Unverified: ``min_bid`` as a per-offer amount rests on the renter docs and two
  collectors, not on a field reference; the search endpoint has no documented paging.
"""

import asyncio
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
IN_FLIGHT = 4  # searches at a time: one pull makes ~24, politely
# (offer field, pricing kind): both read from the same on-demand search
PRICE_FIELDS: tuple[tuple[str, PricingKind], ...] = (
    ("dph_total", "on_demand"),
    ("min_bid", "spot"),
)
# GPU names as Vast writes them (gpuhunt's GPU_MAPPING and the offers themselves)
GPU_NAMES = (
    "B200",
    "H200",
    "H200 NVL",
    "H100 SXM",
    "H100 PCIE",
    "H100 NVL",
    "GH200",
    "A100 SXM4",
    "A100 PCIE",
    "A100X",
    "L40S",
    "L40",
    "L4",
    "A40",
    "A10",
    "RTX PRO 6000 WS",
    "RTX 6000Ada",
    "RTX A6000",
    "RTX 5090",
    "RTX 4090",
    "RTX 3090",
    "Tesla V100",
    "Tesla T4",
)
OTHERS = "others"


def query(gpu_name: str) -> dict[str, object]:
    """The search for one model's offers (`OTHERS`: every model not in `GPU_NAMES`)."""
    name = {"notin": list(GPU_NAMES)} if gpu_name == OTHERS else {"eq": gpu_name}
    return {
        "rentable": {"eq": True},
        "rented": {"eq": False},
        "verified": {"eq": True},
        "num_gpus": {"gte": 1},
        "gpu_name": name,
        "type": "on-demand",
        "order": [["dph_total", "asc"]],
        "limit": LIMIT,
    }


def response_name(gpu_name: str) -> str:
    return "bundles-" + ("~others" if gpu_name == OTHERS else gpu_name.replace(" ", "_"))


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
        slots = asyncio.Semaphore(IN_FLIGHT)

        async def search(gpu_name: str) -> RawResponse:
            async with slots:
                response = await http.post(self.url(API_URL), json=query(gpu_name), headers=headers)
            return record(response_name(gpu_name), response)

        names = (*GPU_NAMES, OTHERS)
        first = await search(names[0])  # alone: a rejected key or a broken answer stops here
        try:
            async with asyncio.TaskGroup() as group:  # a failure cancels the searches left
                rest = [group.create_task(search(name)) for name in names[1:]]
        except* Exception as failures:
            raise failures.exceptions[0] from None
        return [first, *(task.result() for task in rest)]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        # (GPU name, country, kind) -> per-GPU prices
        groups: dict[tuple[str, str, PricingKind], list[Decimal]] = defaultdict(list)
        capped: set[str] = set()
        seen: set[object] = set()
        answers = [response_named(responses, self.slug, response_name(n)) for n in GPU_NAMES]
        answers.append(response_named(responses, self.slug, response_name(OTHERS)))
        for response in answers:
            machines = field(
                load_json(response, self.slug), "offers", provider=self.slug, where=response.name
            )
            if not isinstance(machines, list):
                raise DataError(f"{self.slug}: {response.name}: 'offers' is not a list")
            if len(machines) >= LIMIT:
                capped.add(response.name)
            for machine in machines:
                where = f"{response.name} offer {machine.get('id')!r}"
                if machine.get("id") in seen:
                    continue  # the same machine in two answers counts once
                seen.add(machine.get("id"))
                gpu_name = field(machine, "gpu_name", provider=self.slug, where=where)
                gpus = field(machine, "num_gpus", provider=self.slug, where=where)
                if not isinstance(gpus, int) or gpus < 1:
                    continue  # a fractional listing: not a whole-GPU offer
                country = _country(machine.get("geolocation"))
                for price_field, kind in PRICE_FIELDS:
                    value = field(machine, price_field, provider=self.slug, where=where)
                    if value is None:
                        continue  # no interruptible price for this machine
                    price = money(value, provider=self.slug, where=where) / gpus
                    groups[(gpu_name, country, kind)].append(price)
        observed_at = max(r.fetched_at for r in answers)
        offers = []
        for (gpu_name, country, kind), prices in sorted(groups.items()):
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
                    observed_at=observed_at,
                    available=True,
                    details={
                        "aggregate": "median",
                        "offers": len(prices),
                        "min": str(prices[0]),
                        "p10": str(percentile(prices, 0.1)),
                        "median": str(median),
                        "max": str(prices[-1]),
                        "capped": response_name(gpu_name) in capped
                        or (gpu_name not in GPU_NAMES and response_name(OTHERS) in capped),
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
