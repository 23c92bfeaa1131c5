"""Hot Aisle AMD Instinct virtual machines.

Evidence (checked 2026-12-04): gpuhunt ``src/gpuhunt/providers/hotaisle.py`` (dstackai/
gpuhunt at 3584151); Hot Aisle API docs https://admin.hotaisle.app/api/docs.

- ``GET https://admin.hotaisle.app/api/teams/{team}/virtual_machines/available/``, header
  ``Authorization: Token <HOTAISLE_API_KEY>``; the team handle ``HOTAISLE_TEAM_HANDLE`` is
  part of the path. Both are required. The answer is a bare JSON array, no paging.
- Each item: ``OnDemandPrice`` (**cents** per VM-hour), ``Specs``: ``cpu_cores``,
  ``ram_capacity`` and ``disk_capacity`` (bytes; the disk stored in decimal GB),
  ``gpus[]`` (``count``, ``model``: "MI300X").
- One location: gpuhunt hard-codes ``us-michigan-1`` ("Hot Aisle only has one location");
  so do we, which is an assumption, not an API field. Everything listed is available.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, RawResponse
from site_builder.pull.gpu.providers.base import (
    Adapter,
    field,
    load_json,
    record,
    response_named,
)
from site_builder.pull.gpu.sizes import storage_gb

API_URL = "https://admin.hotaisle.app/api/teams/{team}/virtual_machines/available/"
REGION = ("us-michigan-1", "Michigan, US")


class HotAisleAdapter(Adapter):
    slug = "hotaisle"
    name = "Hot Aisle"
    website = "https://hotaisle.xyz"
    credential_env = ("HOTAISLE_API_KEY", "HOTAISLE_TEAM_HANDLE")

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        url = API_URL.format(team=credentials.get("HOTAISLE_TEAM_HANDLE", ""))
        response = await http.get(
            self.url(url),
            headers={
                "Accept": "application/json",
                "Authorization": f"Token {credentials.get('HOTAISLE_API_KEY', '')}",
            },
        )
        return [record("available", response)]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        response = response_named(responses, self.slug, "available")
        items = load_json(response, self.slug)
        if not isinstance(items, list):
            raise DataError(f"{self.slug}: available VMs should be a JSON array")
        offers: list[ParsedOffer] = []
        for index, item in enumerate(items):
            where = f"VM #{index + 1}"
            cents = field(item, "OnDemandPrice", provider=self.slug, where=where)
            specs = field(item, "Specs", provider=self.slug, where=where)
            gpu = field(specs, "gpus", 0, provider=self.slug, where=where)
            model = str(field(gpu, "model", provider=self.slug, where=where))
            count = int(field(gpu, "count", provider=self.slug, where=where))
            cores = specs.get("cpu_cores")
            offers.append(
                ParsedOffer(
                    provider=self.slug,
                    instance_type=f"{count}x {model} {cores} cores",
                    raw_gpu_name=model,
                    gpu_count=count,
                    region_code=REGION[0],
                    region_name=REGION[1],
                    region_country="US",
                    pricing_kind="on_demand",
                    price=Decimal(str(cents)) / 100,
                    price_basis="instance",
                    currency="USD",
                    raw_price=str(cents),
                    raw_unit="USD cents / VM-hour",
                    observed_at=response.fetched_at,
                    vcpus=cores,
                    memory_gb=round(specs.get("ram_capacity", 0) / 1024**3, 1) or None,
                    storage_gb=storage_gb(specs.get("disk_capacity"), "B"),
                    available=True,
                )
            )
        return offers
