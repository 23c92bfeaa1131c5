"""Hyperstack (NexGen Cloud) GPU flavours: on-demand and spot, per region.

Sources (checked 2026-12-04):
- Hyperstack (Infrahub) API via its SDK: github NexGenCloud/hyperstack-sdk-python
  ``docs/PricebookApi.md`` (``GET /pricebook`` returns ``List[PricebookModel]``),
  ``docs/PricebookModel.md`` (``name``, ``value``, ``original_value``, ``discount_applied``,
  ``start_time``, ``end_time``), ``docs/FlavorFields.md`` (``gpu``, ``gpu_count``, ``cpu``,
  ``ram``, ``disk``, ``ephemeral``, ``region_name``, ``stock_available``).
- Project reference notes (``/work/shared/reference/gpu-pricing-apis.md``): ``-spot``
  pricebook names, regions.

API quirks, from the Hyperstack docs:
- ``https://infrahub-api.nexgencloud.com/v1``; the key goes in an ``api_key`` header
  (``HYPERSTACK_API_KEY``).
- ``GET /pricebook`` is a bare array of ``{"name", "value"}`` where ``name`` is a GPU
  ("H100-80G-PCIe") and ``value`` a **string** USD price per **GPU**-hour; a spot price is
  a separate entry named ``<gpu>-spot``. Other entries (storage, IPs) are ignored.
- ``GET /core/flavors`` groups flavours by GPU and region: ``{"status": true, "data":
  [{"gpu", "region_name", "flavors": [{"name", "cpu", "ram", "gpu", "gpu_count",
  "stock_available"}]}]}``. Instance price = pricebook[gpu] x ``gpu_count``; vCPU and RAM
  are included in GPU flavours. CPU-only flavours (``gpu_count`` 0) are skipped.
- ``stock_available`` is our ``available`` flag. Regions: NORWAY-1, CANADA-1, US-1.
- Unverified: ``value`` is the price now (a discount, when ``discount_applied``, is
  included; ``original_value`` is the undiscounted one); that vCPU and RAM are free on GPU
  flavours; the ``-spot`` naming (from the reference notes only). The SDK types ``value``
  as a float; strings are accepted too. That ``disk`` (root) and ``ephemeral`` are in GB:
  the SDK types them as integers without a unit, Hyperstack's flavour tables write GB; the
  storage stored is the two together.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, PricingKind, RawResponse
from site_builder.pull.gpu.providers.base import (
    Adapter,
    field,
    load_json,
    money,
    record,
    response_named,
)
from site_builder.pull.gpu.sizes import storage_gb

API_URL = "https://infrahub-api.nexgencloud.com/v1"
REGION_COUNTRIES = {"NORWAY-1": "NO", "CANADA-1": "CA", "US-1": "US"}


class HyperstackAdapter(Adapter):
    slug = "hyperstack"
    name = "Hyperstack"
    website = "https://www.hyperstack.cloud"
    credential_env = ("HYPERSTACK_API_KEY",)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        headers = {"api_key": credentials["HYPERSTACK_API_KEY"], "accept": "application/json"}
        return [
            record(name, await http.get(self.url(f"{API_URL}{path}"), headers=headers))
            for name, path in (("pricebook", "/pricebook"), ("flavors", "/core/flavors"))
        ]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        pricebook_response = response_named(responses, self.slug, "pricebook")
        entries = load_json(pricebook_response, self.slug)
        if not isinstance(entries, list):
            raise DataError(f"{self.slug}: pricebook should be a list")
        prices: dict[str, tuple[Decimal, str]] = {}
        for entry in entries:
            name = field(entry, "name", provider=self.slug, where="a pricebook entry")
            raw = field(entry, "value", provider=self.slug, where=f"pricebook {name!r}")
            prices[name] = (money(raw, provider=self.slug, where=f"pricebook {name!r}"), str(raw))
        flavors_response = response_named(responses, self.slug, "flavors")
        groups = field(
            load_json(flavors_response, self.slug), "data", provider=self.slug, where="flavors"
        )
        offers = []
        for group in groups:
            region = field(group, "region_name", provider=self.slug, where="a flavour group")
            for flavor in field(group, "flavors", provider=self.slug, where=f"region {region}"):
                name = field(flavor, "name", provider=self.slug, where=f"region {region}")
                where = f"flavour {name!r} in {region}"
                gpu = field(flavor, "gpu", provider=self.slug, where=where)
                count = field(flavor, "gpu_count", provider=self.slug, where=where)
                if not gpu or not count:
                    continue
                kinds: list[tuple[PricingKind, str]] = [("on_demand", gpu), ("spot", f"{gpu}-spot")]
                for kind, price_name in kinds:
                    if price_name not in prices:
                        if kind == "on_demand":
                            raise DataError(f"{self.slug}: {where}: no pricebook entry for {gpu!r}")
                        continue
                    price, raw = prices[price_name]
                    offers.append(
                        ParsedOffer(
                            provider=self.slug,
                            instance_type=name,
                            raw_gpu_name=gpu,
                            gpu_count=int(count),
                            region_code=region.lower(),
                            region_name=region,
                            region_country=REGION_COUNTRIES.get(region),
                            pricing_kind=kind,
                            price=price,
                            price_basis="gpu",
                            currency="USD",
                            raw_price=raw,
                            raw_unit="USD / GPU-hour",
                            observed_at=flavors_response.fetched_at,
                            vcpus=flavor.get("cpu"),
                            memory_gb=flavor.get("ram"),
                            storage_gb=_disks_gb(flavor),
                            available=bool(flavor.get("stock_available")),
                        )
                    )
        return offers


def _disks_gb(flavor: dict[str, Any]) -> Any:
    """The root disk and the ephemeral disk of a flavour together, in GB."""
    disks = [storage_gb(flavor.get(name), "GB") for name in ("disk", "ephemeral")]
    bad = next((d for d in disks if d is not None and not isinstance(d, float)), None)
    if bad is not None:
        return bad  # the store drops it and names it
    sizes = [d for d in disks if isinstance(d, float)]
    return round(sum(sizes), 1) if sizes else None
