"""CUDO Compute virtual machines, priced per component per data centre.

Sources (checked 2026-12-04):
- CUDO Compute REST API, "List virtual machine types", ``GET /v1/vms/machine-types``:
  https://www.cudocompute.com/docs/api/virtual-machines/list-virtual-machine-types
  (camelCase JSON with string prices ``{"value": "…"}``, ``maxGpuFree``, and ``prices[]``
  per ``commitmentTerm``); every request needs a Bearer API key, "requests without a valid
  key return 401": https://cudocompute.com/docs/api
- SkyPilot ``sky/catalog/data_fetchers/fetch_cudo.py``: per-component hourly prices
  composed into a VM price. gpuhunt dropped its CUDO provider in 2026-06 (project notes,
  ``/work/shared/reference/gpu-pricing-apis.md``).

API quirks:
- ``GET https://rest.compute.cudo.org/v1/vms/machine-types`` with ``CUDO_API_KEY`` as a
  Bearer token: the docs say every request needs one (401 without), so the provider is
  skipped, not failed, when the key is not set. (gpuhunt, which dropped CUDO, listed it
  anonymously; the docs are the stronger evidence.)
- ``machineTypes[]`` has one entry per data centre x machine type x GPU model, with
  **string** prices per component-hour under ``{"value": "…"}``: ``gpuPriceHr`` (per GPU),
  ``vcpuPriceHr``, ``memoryGibPriceHr``, ``minStorageGibPriceHr``, ``ipv4PriceHr``.
  (The SDK spells these in snake_case; the REST API in camelCase.)
- As for other marketplaces, the published price is the standard VM per GPU (see
  ``STANDARD_VM`` in base) plus one IPv4 address, composed and recorded in ``details``.
- ``maxGpuFree`` is the number of GPUs free now: > 0 is our ``available`` flag.
- Data centre ids look like ``no-luster-1``: the country is the leading two letters.
- ``prices[]`` repeats the GPU, vCPU and RAM rates per ``commitmentTerm``:
  ``COMMITMENT_TERM_NONE`` is on demand (the top-level rates); other terms
  (``COMMITMENT_TERM_3_MONTHS`` …) are published as **reserved** for that term ("3mo",
  "1y"), composed the same way (storage and IPv4 at the on-demand rate).
- No spot prices; no paging.
- Unverified: the commitment enum names beyond ``COMMITMENT_TERM_NONE`` (read as
  ``COMMITMENT_TERM_<n>_MONTH(S)``; another form is skipped); ``maxGpuFree`` as "free now".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pycountry

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, RawResponse
from site_builder.pull.gpu.providers.base import (
    STANDARD_RAM_GB_PER_GPU,
    STANDARD_STORAGE_GB_PER_GPU,
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
TERM = re.compile(r"COMMITMENT_TERM_([0-9]+)_MONTHS?")


def _term(value: object) -> str:
    """ "COMMITMENT_TERM_3_MONTHS" -> "3mo", "..._12_MONTHS" -> "1y"; "" for none or unknown."""
    match = TERM.fullmatch(str(value or ""))
    if not match:
        return ""
    months = int(match.group(1))
    return f"{months // 12}y" if months % 12 == 0 else f"{months}mo"


class CudoAdapter(Adapter):
    slug = "cudo"
    name = "CUDO Compute"
    website = "https://www.cudocompute.com"
    credential_env = ("CUDO_API_KEY",)

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
            free = machine.get("maxGpuFree")
            country = center[:2].upper()
            common = {
                "provider": self.slug,
                "instance_type": f"{name} standard",
                "raw_gpu_name": gpu_model,
                "gpu_count": 1,
                "region_code": center,
                "region_name": center,
                "region_country": country if pycountry.countries.get(alpha_2=country) else None,
                "price_basis": "instance",
                "currency": "USD",
                "raw_unit": "USD / GPU-hour, in a standard VM with one IPv4",
                "observed_at": response.fetched_at,
                "vcpus": STANDARD_VCPUS_PER_GPU,
                "memory_gb": float(STANDARD_RAM_GB_PER_GPU),
                # the disk the standard VM's price includes (STANDARD_VM): what is priced
                "storage_gb": float(STANDARD_STORAGE_GB_PER_GPU),
                "available": bool(free) if free is not None else None,
            }
            rates = [("on_demand", "", gpu_raw, gpu, vcpu, ram)]
            for committed in machine.get("prices") or []:
                term = _term(committed.get("commitmentTerm"))
                if not term:
                    continue  # COMMITMENT_TERM_NONE (the top-level rates) or an unknown form
                c_gpu, c_vcpu, c_ram = (
                    money(
                        field(committed, key, "value", provider=self.slug, where=where),
                        provider=self.slug,
                        where=where,
                    )
                    for key in ("gpuPriceHr", "vcpuPriceHr", "memoryGibPriceHr")
                )
                raw = committed["gpuPriceHr"]["value"]
                rates.append(("reserved", term, raw, c_gpu, c_vcpu, c_ram))
            for kind, term, raw, g, v, r in rates:
                total = standard_vm_price(g, v, r, disk) + ipv4
                offers.append(
                    ParsedOffer(
                        **common,
                        pricing_kind=kind,
                        reserved_term=term,
                        price=total,
                        raw_price=str(raw),
                        details={
                            "gpu_hour": str(g),
                            "composition": STANDARD_VM + " + 1 IPv4",
                            "free_gpus": free,
                        },
                    )
                )
        return offers
