"""Novita AI GPU instances.

Evidence (checked 2026-12-04): Novita's GPU instance API (https://novita.ai/docs/api-
reference/gpu-instance-list-products; base ``https://api.novita.ai/gpu-instance/openapi/
v1``, Bearer key, as in SkyPilot's ``sky/provision/novita/utils.py`` and the official
novitalabs/novita-mcp-server ``list-products`` tool, which calls ``/products``); a public
collector's test fixtures that "mirror real GET /gpu-instance/openapi/v1/products objects
(verified live)".

- ``GET https://api.novita.ai/gpu-instance/openapi/v1/products``, ``Authorization: Bearer
  <NOVITA_API_KEY>`` (required). The answer is ``{"data": [...]}``.
- ``data[]``: ``id`` ("4090.16c62g"), ``name`` ("RTX 4090 24GB"), ``cpuPerGpu``,
  ``memoryPerGpu`` and ``diskPerGpu`` (GB per GPU, as a typed Novita client's
  ``GPUProduct`` model describes them; our offers are of one GPU, so stored as they come),
  ``price`` and ``spotPrice`` — **strings in units of 1e-5 USD per
  GPU-hour** ("35000" = 0.35 USD) —, ``regions`` (labels: "US-CA-06 (California)"),
  ``availableDeploy``, ``inventoryState`` ("none", "normal", "high"), ``billingMethods``.
- A product is priced per GPU (you choose the count at launch): one offer per product x
  region; spot when ``spotPrice`` is set and "spot" is among ``billingMethods``. A price of
  "0" or null is no price: the product is skipped.

Unverified: the price unit is established by the collector's fixture and Novita's pricing
page figures, not by a published schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

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

API_URL = "https://api.novita.ai/gpu-instance/openapi/v1/products"
UNIT = Decimal("0.00001")
REGION_LABEL = re.compile(r"^(?P<code>[A-Z0-9-]+)\s*(?:\((?P<name>[^)]*)\))?$")


def _country(code: str) -> str | None:
    """ "US-CA-06" -> US (a US state follows), "EU-GB-01" -> GB, "AS-SGP-02" -> None."""
    parts = code.split("-")
    if parts[0] == "US":
        return "US"
    if len(parts) >= 3 and len(parts[1]) == 2 and parts[1].isalpha():
        return parts[1]
    return None


class NovitaAdapter(Adapter):
    slug = "novita"
    name = "Novita AI"
    website = "https://novita.ai"
    credential_env = ("NOVITA_API_KEY",)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        response = await http.get(self.url(API_URL), headers=bearer(credentials, "NOVITA_API_KEY"))
        return [record("products", response)]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        response = response_named(responses, self.slug, "products")
        offers: list[ParsedOffer] = []
        for product in field(
            load_json(response, self.slug), "data", provider=self.slug, where="products"
        ):
            where = f"product {product.get('id')!r}"
            kinds = [("on_demand", product.get("price"))]
            if product.get("spotPrice") and "spot" in (product.get("billingMethods") or []):
                kinds.append(("spot", product.get("spotPrice")))
            name = str(field(product, "name", provider=self.slug, where=where))
            available = bool(product.get("availableDeploy")) and (
                product.get("inventoryState") not in (None, "none")
            )
            for kind, raw in kinds:
                if raw in (None, "", "0", 0):
                    continue
                price = money(raw, provider=self.slug, where=where) * UNIT
                for label in field(product, "regions", provider=self.slug, where=where):
                    match = REGION_LABEL.match(str(label).strip())
                    code = match["code"] if match else str(label)
                    offers.append(
                        ParsedOffer(
                            provider=self.slug,
                            instance_type=str(product["id"]),
                            raw_gpu_name=name,
                            gpu_count=1,
                            region_code=code,
                            region_name=(match["name"] if match and match["name"] else code),
                            region_country=_country(code),
                            pricing_kind=kind,  # type: ignore[arg-type]
                            price=price,
                            price_basis="gpu",
                            currency="USD",
                            raw_price=str(raw),
                            raw_unit="1e-5 USD / GPU-hour",
                            observed_at=response.fetched_at,
                            vcpus=product.get("cpuPerGpu"),
                            memory_gb=product.get("memoryPerGpu"),
                            storage_gb=storage_gb(product.get("diskPerGpu"), "GB"),
                            available=available,
                        )
                    )
        return offers
