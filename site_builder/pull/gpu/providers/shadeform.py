"""Shadeform, an aggregator: other clouds' GPU instances through one API.

Evidence (checked 2026-12-04): Shadeform API docs, "Instance types"
(https://docs.shadeform.ai/api-reference/instances/instances-types) as summarised in our
research notes (/work/shared/reference/gpu-pricing-apis.md, "Shadeform (aggregator)").

- ``GET https://api.shadeform.ai/v1/instances/types``, header ``X-API-KEY:
  <SHADEFORM_API_KEY>`` (required). Without filters the answer lists every type; no paging.
- ``instance_types[]``: ``cloud`` (the underlying provider: "lambdalabs", "hyperstack",
  …), ``shade_instance_type``, ``cloud_instance_type``, ``hourly_price`` (**integer cents
  per instance-hour**), ``configuration``: ``gpu_type`` ("H100", "A100_80G", "A6000"),
  ``num_gpus``, ``vram_per_gpu_in_gb``, ``interconnect`` ("sxm5", "pcie"), ``vcpus``,
  ``memory_in_gb``, ``storage_in_gb``; ``availability[]``: ``region``, ``available``.
- Aggregator rules: every offer names the underlying cloud (``details.via``) and is shown
  "via Shadeform"; the same capacity is usually listed by that cloud itself, so aggregator
  offers never enter a GPU's lowest or median price (see ``sites/cloudgpus/common.py``).
- The GPU name we map is ``gpu_type`` with the interconnect ("H100 sxm5") because
  "H100" alone does not say SXM or PCIe.

Unverified: whether ``hourly_price`` already includes Shadeform's margin (it is what a
Shadeform user pays); the exact spelling of every ``gpu_type``.
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

API_URL = "https://api.shadeform.ai/v1/instances/types"


class ShadeformAdapter(Adapter):
    slug = "shadeform"
    name = "Shadeform"
    website = "https://www.shadeform.ai"
    credential_env = ("SHADEFORM_API_KEY",)
    aggregator = True

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        response = await http.get(
            self.url(API_URL), headers={"X-API-KEY": credentials.get("SHADEFORM_API_KEY", "")}
        )
        return [record("instance-types", response)]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        response = response_named(responses, self.slug, "instance-types")
        types = field(
            load_json(response, self.slug),
            "instance_types",
            provider=self.slug,
            where="instance-types",
        )
        offers: list[ParsedOffer] = []
        for item in types:
            cloud = str(field(item, "cloud", provider=self.slug, where="an instance type"))
            name = str(field(item, "cloud_instance_type", provider=self.slug, where=cloud))
            where = f"{cloud} {name}"
            config = field(item, "configuration", provider=self.slug, where=where)
            cents = field(item, "hourly_price", provider=self.slug, where=where)
            if isinstance(cents, bool) or not isinstance(cents, int):
                raise DataError(f"{self.slug}: {where}: hourly_price {cents!r} is not cents")
            gpu = str(field(config, "gpu_type", provider=self.slug, where=where))
            interconnect = str(config.get("interconnect") or "").strip()
            for region in field(item, "availability", provider=self.slug, where=where):
                code = str(field(region, "region", provider=self.slug, where=where))
                offers.append(
                    ParsedOffer(
                        provider=self.slug,
                        instance_type=f"{cloud}/{name}",
                        raw_gpu_name=f"{gpu} {interconnect}".strip(),
                        gpu_count=int(field(config, "num_gpus", provider=self.slug, where=where)),
                        region_code=f"{cloud}/{code}",
                        region_name=f"{code} ({cloud})",
                        pricing_kind="on_demand",
                        price=Decimal(cents) / 100,
                        price_basis="instance",
                        currency="USD",
                        raw_price=str(cents),
                        raw_unit="USD cents / instance-hour",
                        observed_at=response.fetched_at,
                        vcpus=config.get("vcpus"),
                        memory_gb=config.get("memory_in_gb"),
                        storage_gb=storage_gb(config.get("storage_in_gb"), "GB"),
                        available=bool(region.get("available")),
                        details={"via": cloud, "aggregator": self.slug},
                    )
                )
        return offers
