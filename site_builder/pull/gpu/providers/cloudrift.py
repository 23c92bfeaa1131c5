"""CloudRift GPU virtual machines.

Evidence (checked 2026-12-04): gpuhunt ``src/gpuhunt/providers/cloudrift.py`` (dstackai/
gpuhunt at 3584151; CloudRift is one of gpuhunt's published offline catalogs).

- ``POST https://api.cloudrift.ai/api/v1/instance-types/list`` with the body
  ``{"version": "2025-03-21", "data": {"selector": {"ByServiceAndLocation": {"services":
  ["vm"]}}}}``; no key. The answer is ``{"data": {"instance_types": [...]}}``.
- ``instance_types[]``: ``brand_short`` (the GPU: "RTX 4090", "RTX PRO 6000", "MI350X")
  and ``variants[]``: ``name``, ``cost_per_hour`` (**integer cents** per instance-hour),
  ``gpu_count``, ``cpu_count``, ``dram``, ``disk`` and ``vram`` (bytes;
  gpuhunt reads ``disk`` as its disk size; stored in decimal GB), ``nodes_per_dc`` (data
  centre -> free node count).
- Quirk: a variant whose ``nodes_per_dc`` is empty has no capacity; it is kept once in the
  pseudo-region ``any``, unavailable. A data centre with 0 nodes is unavailable there.
"""

from __future__ import annotations

import json
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

API_URL = "https://api.cloudrift.ai/api/v1/instance-types/list"
API_VERSION = "2025-03-21"
REQUEST = {
    "version": API_VERSION,
    "data": {"selector": {"ByServiceAndLocation": {"services": ["vm"]}}},
}


class CloudRiftAdapter(Adapter):
    slug = "cloudrift"
    name = "CloudRift"
    website = "https://www.cloudrift.ai"

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        response = await http.post(
            self.url(API_URL),
            content=json.dumps(REQUEST).encode(),
            headers={"Content-Type": "application/json"},
        )
        return [record("instance-types", response)]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        response = response_named(responses, self.slug, "instance-types")
        types = field(
            load_json(response, self.slug),
            "data",
            "instance_types",
            provider=self.slug,
            where="instance-types",
        )
        offers: list[ParsedOffer] = []
        for instance in types:
            brand = str(field(instance, "brand_short", provider=self.slug, where="a type"))
            for variant in field(instance, "variants", provider=self.slug, where=brand):
                where = f"variant {variant.get('name')!r}"
                cents = field(variant, "cost_per_hour", provider=self.slug, where=where)
                if isinstance(cents, bool) or not isinstance(cents, int | float):
                    raise DataError(f"{self.slug}: {where}: cost_per_hour {cents!r} is not cents")
                nodes = field(variant, "nodes_per_dc", provider=self.slug, where=where) or {}
                for dc, free in sorted(nodes.items()) or [("any", 0)]:
                    offers.append(
                        ParsedOffer(
                            provider=self.slug,
                            instance_type=str(variant["name"]),
                            raw_gpu_name=brand,
                            gpu_count=int(
                                field(variant, "gpu_count", provider=self.slug, where=where)
                            ),
                            region_code=dc,
                            region_name=dc if dc != "any" else "Any region (no capacity)",
                            pricing_kind="on_demand",
                            price=Decimal(str(cents)) / 100,
                            price_basis="instance",
                            currency="USD",
                            raw_price=str(cents),
                            raw_unit="USD cents / instance-hour",
                            observed_at=response.fetched_at,
                            vcpus=variant.get("cpu_count"),
                            memory_gb=round(variant.get("dram", 0) / 1024**3, 1) or None,
                            storage_gb=storage_gb(variant.get("disk"), "B"),
                            available=bool(free),
                        )
                    )
        return offers
