"""CUDO Compute virtual machines, priced per component per data centre.

API quirks, from the CUDO REST docs and gpuhunt:
- ``GET https://rest.compute.cudo.org/v1/vms/machine-types``; the listing answers
  without a key (``CUDO_API_KEY`` is sent as Bearer when set).
- ``machineTypes[]`` has one entry per data centre x machine type x GPU model, with
  **string** prices per component-hour under ``{"value": "…"}``: ``gpuPriceHr`` (per GPU),
  ``vcpuPriceHr``, ``memoryGibPriceHr``, ``minStorageGibPriceHr``, ``ipv4PriceHr``.
  (The SDK spells these in snake_case; the REST API in camelCase.)
- As for other marketplaces, the published price is the standard VM per GPU (see
  ``STANDARD_VM`` in base) plus one IPv4 address, composed and recorded in ``details``.
- ``maxGpuFree`` is the number of GPUs free now: > 0 is our ``available`` flag.
- Data centre ids look like ``no-luster-1``: the country is the leading two letters.
- No spot or reserved prices; no paging.
"""

from __future__ import annotations

from collections.abc import Mapping

import pycountry

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, RawResponse
from site_builder.pull.gpu.providers.base import (
    STANDARD_RAM_GB_PER_GPU,
    STANDARD_VCPUS_PER_GPU,
    STANDARD_VM,
    Adapter,
    bearer,
    field,
    load_json,
    money,
    record,
    response_named,
    standard_vm_price,
)

API_URL = "https://rest.compute.cudo.org/v1/vms/machine-types"


class CudoAdapter(Adapter):
    slug = "cudo"
    name = "CUDO Compute"
    website = "https://www.cudocompute.com"
    optional_env = ("CUDO_API_KEY",)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        headers = bearer(credentials, "CUDO_API_KEY")
        return [record("machine-types", await http.get(self.url(API_URL), headers=headers))]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        response = response_named(responses, self.slug, "machine-types")
        machines = field(
            load_json(response, self.slug),
            "machineTypes",
            provider=self.slug,
            where="machine-types",
        )
        if not isinstance(machines, list):
            raise DataError(f"{self.slug}: machineTypes is not a list")
        offers = []
        for machine in machines:
            name = field(machine, "machineType", provider=self.slug, where="a machine type")
            center = field(machine, "dataCenterId", provider=self.slug, where=name)
            where = f"{name} in {center}"
            gpu_model = machine.get("gpuModel")
            if not gpu_model:
                continue  # a CPU-only machine type

            gpu_raw = field(machine, "gpuPriceHr", "value", provider=self.slug, where=where)
            gpu, vcpu, ram, disk = (
                money(
                    field(machine, key, "value", provider=self.slug, where=where),
                    provider=self.slug,
                    where=where,
                )
                for key in ("gpuPriceHr", "vcpuPriceHr", "memoryGibPriceHr", "minStorageGibPriceHr")
            )
            ipv4 = money(
                machine.get("ipv4PriceHr", {}).get("value", 0), provider=self.slug, where=where
            )
            total = standard_vm_price(gpu, vcpu, ram, disk) + ipv4
            free = machine.get("maxGpuFree")
            country = center[:2].upper()
            offers.append(
                ParsedOffer(
                    provider=self.slug,
                    instance_type=f"{name} standard",
                    raw_gpu_name=gpu_model,
                    gpu_count=1,
                    region_code=center,
                    region_name=center,
                    region_country=country if pycountry.countries.get(alpha_2=country) else None,
                    pricing_kind="on_demand",
                    price=total,
                    price_basis="instance",
                    currency="USD",
                    raw_price=str(gpu_raw),
                    raw_unit="USD / GPU-hour, in a standard VM with one IPv4",
                    observed_at=response.fetched_at,
                    vcpus=STANDARD_VCPUS_PER_GPU,
                    memory_gb=float(STANDARD_RAM_GB_PER_GPU),
                    available=bool(free) if free is not None else None,
                    details={
                        "gpu_hour": str(gpu),
                        "composition": STANDARD_VM + " + 1 IPv4",
                        "free_gpus": free,
                    },
                )
            )
        return offers
