"""Hyperbolic GPU cloud (on-demand VMs).

Evidence (checked 2026-12-04): SkyPilot ``sky/catalog/data_fetchers/fetch_hyperbolic.py``
(the catalog fetcher Hyperbolic contributed; its ``REQUIRED_FIELDS`` and the checks on the
answer), Hyperbolic docs https://docs.hyperbolic.xyz.

- ``GET https://api.hyperbolic.xyz/v2/skypilot/catalog``, Bearer ``HYPERBOLIC_API_KEY``
  (required). The answer is ``{"vms": [...]}``; an empty list is an error for SkyPilot
  and for us (an empty answer never wipes prices).
- ``vms[]`` rows are already in SkyPilot's catalog shape: ``InstanceType``,
  ``AcceleratorName`` ("H100"), ``AcceleratorCount``, ``vCPUs``, ``MemoryGiB``,
  ``StorageGiB`` (stored converted to decimal GB), ``Price`` (USD per instance-hour),
  ``SpotPrice`` (0 or empty when there is none), ``Region``, ``GpuInfo``
  (``Gpus[].MemoryInfo.SizeInMiB``).
- The GPU name we map is ``AcceleratorName`` with the memory from ``GpuInfo`` when given
  ("H100 80GB"), since the accelerator name alone does not say SXM or PCIe.

Unverified: SkyPilot's earlier versions of this fetcher pointed at a development host;
the production path is the one above. Form factors per accelerator name are ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, RawResponse
from site_builder.pull.gpu.providers.base import (
    Adapter,
    bearer,
    field,
    load_json,
    money,
    record,
    response_named,
)
from site_builder.pull.gpu.sizes import storage_gb

API_URL = "https://api.hyperbolic.xyz/v2/skypilot/catalog"


def _memory_gb(gpu_info: Any) -> int | None:
    try:
        return round(gpu_info["Gpus"][0]["MemoryInfo"]["SizeInMiB"] / 1024)
    except (KeyError, IndexError, TypeError):
        return None


class HyperbolicAdapter(Adapter):
    slug = "hyperbolic"
    name = "Hyperbolic"
    website = "https://hyperbolic.xyz"
    credential_env = ("HYPERBOLIC_API_KEY",)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        response = await http.get(
            self.url(API_URL), headers=bearer(credentials, "HYPERBOLIC_API_KEY")
        )
        return [record("catalog", response)]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        response = response_named(responses, self.slug, "catalog")
        vms = field(load_json(response, self.slug), "vms", provider=self.slug, where="catalog")
        if not isinstance(vms, list) or not vms:
            raise DataError(f"{self.slug}: the catalog lists no VMs")
        offers: list[ParsedOffer] = []
        for vm in vms:
            name = str(field(vm, "InstanceType", provider=self.slug, where="a VM"))
            count = int(field(vm, "AcceleratorCount", provider=self.slug, where=name) or 0)
            if count < 1:
                continue
            gpu = str(field(vm, "AcceleratorName", provider=self.slug, where=name))
            memory = _memory_gb(vm.get("GpuInfo"))
            region = str(field(vm, "Region", provider=self.slug, where=name))
            kinds = [("on_demand", field(vm, "Price", provider=self.slug, where=name))]
            if vm.get("SpotPrice") not in (None, "", 0, 0.0, "0"):
                kinds.append(("spot", vm["SpotPrice"]))
            for kind, raw in kinds:
                offers.append(
                    ParsedOffer(
                        provider=self.slug,
                        instance_type=name,
                        raw_gpu_name=f"{gpu} {memory}GB" if memory else gpu,
                        gpu_count=count,
                        region_code=region,
                        region_name=region,
                        pricing_kind=kind,  # type: ignore[arg-type]
                        price=money(raw, provider=self.slug, where=name),
                        price_basis="instance",
                        currency="USD",
                        raw_price=str(raw),
                        raw_unit="USD / instance-hour",
                        observed_at=response.fetched_at,
                        vcpus=vm.get("vCPUs"),
                        memory_gb=vm.get("MemoryGiB"),
                        storage_gb=storage_gb(vm.get("StorageGiB"), "GiB"),
                    )
                )
        return offers
