"""TensorDock marketplace locations: GPU plus the resources a usable VM needs.

Sources (checked 2026-12-04):
- TensorDock API v2, "Fetch Hostnodes and Locations", ``GET /api/v2/locations``:
  https://dashboard.tensordock.com/api/docs/fetch-hostnodes (``data.locations[]`` with
  ``id``, ``city``, ``stateprovince``, ``country``, ``tier`` and ``gpus[]`` of ``v0Name``,
  ``displayName``, ``max_count``, ``price_per_hr``, ``resources``, ``pricing``).
- Project reference notes (``/work/shared/reference/gpu-pricing-apis.md``). gpuhunt
  dropped its TensorDock provider in 2026-02, so no collector cross-checks this one.

API quirks, from the TensorDock v2 docs:
- ``GET https://dashboard.tensordock.com/api/v2/locations`` with Bearer auth
  (``TENSORDOCK_API_KEY``); about 100 requests a minute, and we make one.
- ``data.locations[]`` each hold ``gpus[]``: ``v0Name`` ("h100-sxm5-80gb"),
  ``displayName``, ``max_count`` (GPUs free now; 0 = none), ``price_per_hr`` (float USD
  per **GPU**-hour) and ``pricing`` for the rest of the VM (``per_vcpu_hr``,
  ``per_gb_ram_hr``, ``per_gb_storage_hr``).
- A VM cannot run on a GPU alone, so the price we publish is a standard configuration per
  GPU (``STANDARD_VM`` in base: 8 vCPUs, 32 GB RAM, 100 GB storage), composed from those rates and
  recorded in ``details``. ``max_count`` > 0 is our ``available`` flag.
- ``country`` is a name ("United States"); it is mapped to an ISO code where it is one.
- No spot or reserved prices. No paging.
- Unverified: that ``price_per_hr`` is per GPU (the reference notes mark it unsure); the
  field names beyond ``v0Name``, ``price_per_hr``, ``max_count`` and ``pricing``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pycountry
from slugify import slugify

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

API_URL = "https://dashboard.tensordock.com/api/v2/locations"


def country_code(name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        return str(pycountry.countries.lookup(name).alpha_2)
    except LookupError:
        return None


class TensorDockAdapter(Adapter):
    slug = "tensordock"
    name = "TensorDock"
    website = "https://tensordock.com"
    credential_env = ("TENSORDOCK_API_KEY",)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        headers = bearer(credentials, "TENSORDOCK_API_KEY")
        return [record("locations", await http.get(self.url(API_URL), headers=headers))]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        response = response_named(responses, self.slug, "locations")
        locations = field(
            load_json(response, self.slug),
            "data",
            "locations",
            provider=self.slug,
            where="locations",
        )
        if not isinstance(locations, list):
            raise DataError(f"{self.slug}: data.locations is not a list")
        offers = []
        for location in locations:
            city = field(location, "city", provider=self.slug, where="a location")
            country = location.get("country") or ""
            code = str(location.get("id") or slugify(f"{city}-{country}"))
            for gpu in field(location, "gpus", provider=self.slug, where=f"location {city}"):
                name = field(gpu, "v0Name", provider=self.slug, where=f"location {city} GPU")
                where = f"{name} in {city}"
                raw = field(gpu, "price_per_hr", provider=self.slug, where=where)
                rates = field(gpu, "pricing", provider=self.slug, where=where)
                per_gpu = money(raw, provider=self.slug, where=where)
                vcpu = money(rates.get("per_vcpu_hr", 0), provider=self.slug, where=where)
                ram = money(rates.get("per_gb_ram_hr", 0), provider=self.slug, where=where)
                disk = money(rates.get("per_gb_storage_hr", 0), provider=self.slug, where=where)
                total = standard_vm_price(per_gpu, vcpu, ram, disk)
                free = gpu.get("max_count")
                offers.append(
                    ParsedOffer(
                        provider=self.slug,
                        instance_type=f"{name} standard",
                        raw_gpu_name=name,
                        gpu_count=1,
                        region_code=code,
                        region_name=", ".join(p for p in (city, country) if p),
                        region_country=country_code(country),
                        pricing_kind="on_demand",
                        price=total,
                        price_basis="instance",
                        currency="USD",
                        raw_price=str(raw),
                        raw_unit="USD / GPU-hour, in a standard VM",
                        observed_at=response.fetched_at,
                        vcpus=STANDARD_VCPUS_PER_GPU,
                        memory_gb=float(STANDARD_RAM_GB_PER_GPU),
                        # the disk the standard VM's price includes (STANDARD_VM)
                        storage_gb=float(STANDARD_STORAGE_GB_PER_GPU),
                        available=bool(free) if free is not None else None,
                        details={
                            "gpu_hour": str(per_gpu),
                            "composition": STANDARD_VM,
                            "free_gpus": free,
                        },
                    )
                )
        return offers
