"""Prime Intellect, an aggregator: GPU offers of many clouds through one API.

Evidence (checked 2026-12-04): Prime Intellect API docs, "Get Availability Information"
(https://docs.primeintellect.ai/api-reference/check-gpu-availability); the official CLI
PrimeIntellect-ai/prime-cli (``packages/prime/src/prime_cli/api/availability.py``: model
``GPUAvailability`` and the paging loop; ``packages/prime/tests/data/
availability_response.json``: a recorded answer), at bd27b0d.

- ``GET https://api.primeintellect.ai/api/v1/availability/gpus?page=N&page_size=100``,
  ``Authorization: Bearer <PRIME_API_KEY>`` (required, "Availability: Read").
  Paging: ``items`` and ``totalCount``; pages are requested until ``totalCount`` items
  are in (as the CLI does).
- ``items[]``: ``cloudId``, ``gpuType`` ("H100_80GB"), ``socket`` ("SXM5", "PCIe"),
  ``provider`` (the underlying cloud: "runpod", "datacrunch", …), ``dataCenter``,
  ``country``, ``gpuCount``, ``stockStatus`` ("High", "Medium", "Low", "Unavailable"),
  ``security`` ("secure_cloud" / "community_cloud"), ``isSpot``, ``prices``: ``onDemand``
  or ``communityPrice`` (the CLI shows ``communityPrice`` when set, else ``onDemand``),
  ``currency``.
- Aggregator rules: each offer names the underlying cloud (``details.via``), is shown "via
  Prime Intellect", and never enters a GPU's lowest or median price.
- The GPU name we map is ``gpuType`` with the socket ("H100_80GB SXM5").

Unverified: that ``prices`` are per instance (the CLI prints them as "Price/Hr" of the
configuration; the recorded answer has a 1-GPU row only).
"""

from __future__ import annotations

from collections.abc import Mapping

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
)

API_URL = "https://api.primeintellect.ai/api/v1/availability/gpus"
PAGE_SIZE = 100
MAX_PAGES = 50


class PrimeIntellectAdapter(Adapter):
    slug = "primeintellect"
    name = "Prime Intellect"
    website = "https://www.primeintellect.ai"
    credential_env = ("PRIME_API_KEY",)
    aggregator = True

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        responses: list[RawResponse] = []
        seen = 0
        for page in range(1, MAX_PAGES + 1):
            url = f"{API_URL}?page={page}&page_size={PAGE_SIZE}"
            response = await http.get(self.url(url), headers=bearer(credentials, "PRIME_API_KEY"))
            responses.append(record(f"gpus-{page}", response))
            body = response.json() if response.status_code == 200 else {}
            items = body.get("items") or []
            seen += len(items)
            if not items or seen >= int(body.get("totalCount") or 0):
                break
        return responses

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        offers: list[ParsedOffer] = []
        for response in responses:
            items = field(
                load_json(response, self.slug), "items", provider=self.slug, where=response.name
            )
            for item in items:
                cloud_id = str(field(item, "cloudId", provider=self.slug, where="an item"))
                cloud = str(item.get("provider") or "unknown")
                where = f"{cloud} {cloud_id}"
                prices = field(item, "prices", provider=self.slug, where=where)
                raw = prices.get("communityPrice")
                if raw is None:
                    raw = prices.get("onDemand")
                if raw is None:
                    raise DataError(f"{self.slug}: {where}: no onDemand or communityPrice")
                count = int(field(item, "gpuCount", provider=self.slug, where=where))
                socket = str(item.get("socket") or "").strip()
                gpu = str(field(item, "gpuType", provider=self.slug, where=where))
                dc = str(item.get("dataCenter") or item.get("country") or "any")
                offers.append(
                    ParsedOffer(
                        provider=self.slug,
                        instance_type=f"{cloud}/{cloud_id} x{count}"
                        + (f" ({item['security']})" if item.get("security") else ""),
                        raw_gpu_name=f"{gpu} {socket}".strip(),
                        gpu_count=count,
                        region_code=f"{cloud}/{dc}",
                        region_name=f"{dc} ({cloud})",
                        region_country=item.get("country"),
                        pricing_kind="spot" if item.get("isSpot") else "on_demand",
                        price=money(raw, provider=self.slug, where=where),
                        price_basis="instance",
                        currency=str(prices.get("currency") or "USD"),
                        raw_price=str(raw),
                        raw_unit="USD / instance-hour",
                        observed_at=response.fetched_at,
                        vcpus=(item.get("vcpu") or {}).get("defaultCount"),
                        memory_gb=(item.get("memory") or {}).get("defaultCount"),
                        available=item.get("stockStatus") not in (None, "Unavailable"),
                        details={"via": cloud, "aggregator": self.slug},
                    )
                )
        return offers
