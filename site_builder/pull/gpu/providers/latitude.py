"""Latitude.sh bare-metal GPU servers.

Evidence (checked 2026-12-04): Latitude.sh API reference, "List all plans"
(https://docs.latitude.sh/reference/get-plans, ``filter[gpu]``); two public collectors of
the same endpoint: a TypeScript scraper whose types are "based on actual docs"
(``LatitudePlan``: ``attributes.specs.gpu`` {``type``, ``count``}, ``attributes.regions[]``
{``name``, ``locations`` {``available``, ``in_stock``}, ``stock_level``, ``pricing``
{``USD`` {``hour``, ``month``}}}) and a SkyPilot-catalog fetcher noting that the price is
**per whole server**, not per GPU, and that ``locations.in_stock`` (not the region list) is
what can be deployed now. Both show ``specs.drives[]`` as ``{"count": 2, "size": "3.8TB",
"type": "NVME"}`` (and "960GB"): the total is stored, the size's own unit converted.

- ``GET https://api.latitude.sh/plans?filter[gpu]=true``, Bearer ``LATITUDE_API_KEY``
  (required). JSON:API: ``data[]`` with ``id``, ``attributes``.
- One offer per plan x region with a USD hourly price; a region without one is skipped (BRL
  only); available when the region's ``locations.in_stock`` is non-empty.

Unverified: paging (the GPU plan list is short; no ``links.next`` handling).
"""

from __future__ import annotations

from collections.abc import Mapping

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
from site_builder.pull.gpu.sizes import drives_gb

API_URL = "https://api.latitude.sh/plans?filter[gpu]=true"


class LatitudeAdapter(Adapter):
    slug = "latitude"
    name = "Latitude.sh"
    website = "https://www.latitude.sh"
    credential_env = ("LATITUDE_API_KEY",)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        headers = {"Accept": "application/json", **bearer(credentials, "LATITUDE_API_KEY")}
        response = await http.get(self.url(API_URL), headers=headers)
        return [record("plans", response)]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        response = response_named(responses, self.slug, "plans")
        offers: list[ParsedOffer] = []
        for plan in field(
            load_json(response, self.slug), "data", provider=self.slug, where="plans"
        ):
            attributes = field(plan, "attributes", provider=self.slug, where="a plan")
            slug = str(attributes.get("slug") or attributes.get("name") or plan.get("id"))
            where = f"plan {slug!r}"
            gpu = field(attributes, "specs", "gpu", provider=self.slug, where=where)
            if not gpu or not gpu.get("count"):
                continue
            specs = attributes["specs"]
            for region in field(attributes, "regions", provider=self.slug, where=where):
                hourly = ((region.get("pricing") or {}).get("USD") or {}).get("hour")
                if hourly is None:
                    continue
                name = str(field(region, "name", provider=self.slug, where=where))
                in_stock = (region.get("locations") or {}).get("in_stock") or []
                offers.append(
                    ParsedOffer(
                        provider=self.slug,
                        instance_type=slug,
                        raw_gpu_name=str(field(gpu, "type", provider=self.slug, where=where)),
                        gpu_count=int(gpu["count"]),
                        region_code=name,
                        region_name=name,
                        pricing_kind="on_demand",
                        price=money(hourly, provider=self.slug, where=where),
                        price_basis="instance",
                        currency="USD",
                        raw_price=str(hourly),
                        raw_unit="USD / server-hour",
                        observed_at=response.fetched_at,
                        vcpus=(specs.get("cpu") or {}).get("cores"),
                        memory_gb=(specs.get("memory") or {}).get("total"),
                        storage_gb=drives_gb(specs.get("drives")),
                        available=bool(in_stock),
                        details={"stock_level": region.get("stock_level")},
                    )
                )
        return offers
