"""Akamai Cloud (Linode) GPU plans.

Evidence (checked 2026-12-04): Linode API v4 reference, "List Linode types"
(https://techdocs.akamai.com/linode-api/reference/get-linode-types; the same fields in the
generated client ``linode_openapi_client`` GetLinodeType200Response: ``class``, ``gpus``,
``label``, ``memory``, ``price``, ``region_prices``); api-evangelist/linode
``plans/linode-plans-pricing.yml`` (probed 2026-09-17): the endpoint answers without
authentication, and **the GPU class returns a $0 base price** on the public catalog.

- ``GET https://api.linode.com/v4/linode/types``, no key. Paging: ``page`` / ``pages``;
  ``?page=N`` is requested while ``page < pages``.
- ``data[]``: ``id`` ("g2-gpu-rtx4000a1-s"), ``label`` ("RTX4000 Ada x1 Small"),
  ``class`` ("gpu"), ``gpus``, ``vcpus``, ``memory`` and ``disk`` (MB, binary: the "25 GB"
  Nanode has 25600; the disk is stored in decimal GB), ``price.hourly`` (USD per
  instance-hour), ``region_prices[]`` (``id``, ``hourly``): a region whose price differs
  from the base price.
- The GPU model is not a field: it is read from the label ("RTX6000", "RTX4000 Ada").
- Quirk: a base price of 0 is **not** a free GPU: the price is not published there. Region
  prices above 0 are used; with none, the plan is stored as "price on request".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, RawResponse
from site_builder.pull.gpu.providers.base import Adapter, field, load_json, money, record
from site_builder.pull.gpu.sizes import storage_gb

API_URL = "https://api.linode.com/v4/linode/types"
MAX_PAGES = 10
GPU_IN_LABEL = re.compile(r"(RTX\s?\d{4}(?:\s?Ada)?|A100|H100|L40S)", re.IGNORECASE)
BASE_REGION = ("all", "All regions (list price)")


class LinodeAdapter(Adapter):
    slug = "linode"
    name = "Akamai Cloud (Linode)"
    website = "https://www.linode.com"

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        responses: list[RawResponse] = []
        for page in range(1, MAX_PAGES + 1):
            url = API_URL if page == 1 else f"{API_URL}?page={page}"
            response = await http.get(self.url(url))
            responses.append(record(f"types-{page}", response))
            body = response.json() if response.status_code == 200 else {}
            if int(body.get("page") or 1) >= int(body.get("pages") or 1):
                break
        return responses

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        offers: list[ParsedOffer] = []
        for response in responses:
            document = load_json(response, self.slug)
            for plan in field(document, "data", provider=self.slug, where=response.name):
                if plan.get("class") == "gpu":
                    offers += self._plan(plan, response)
        return offers

    def _plan(self, plan: dict[str, Any], response: RawResponse) -> list[ParsedOffer]:
        where = f"type {plan.get('id')!r}"
        label = str(field(plan, "label", provider=self.slug, where=where))
        match = GPU_IN_LABEL.search(label)
        if match is None:
            raise DataError(f"{self.slug}: {where}: no GPU model in the label {label!r}")
        base = field(plan, "price", "hourly", provider=self.slug, where=where)
        prices: list[tuple[str, str, Any]] = []
        if base:
            prices.append((*BASE_REGION, base))
        for region in plan.get("region_prices") or []:
            if region.get("hourly"):
                prices.append((str(region["id"]), str(region["id"]), region["hourly"]))
        common: dict[str, Any] = {
            "provider": self.slug,
            "instance_type": str(plan["id"]),
            "raw_gpu_name": match.group(1),
            "gpu_count": int(field(plan, "gpus", provider=self.slug, where=where)),
            "pricing_kind": "on_demand",
            "price_basis": "instance",
            "currency": "USD",
            "raw_unit": "USD / instance-hour",
            "observed_at": response.fetched_at,
            "vcpus": plan.get("vcpus"),
            "memory_gb": float(Decimal(str(plan.get("memory", 0))) / 1024) or None,
            # "MB" in Linode's API are binary (the 25 GB Nanode has disk 25600): MiB
            "storage_gb": storage_gb(plan.get("disk"), "MiB"),
        }
        if not prices:
            return [
                ParsedOffer(
                    **common,
                    region_code=BASE_REGION[0],
                    region_name=BASE_REGION[1],
                    price=None,
                    price_on_request=True,
                    raw_price=str(base),
                    details={"note": "the public catalog lists this plan at 0 USD"},
                )
            ]
        return [
            ParsedOffer(
                **common,
                region_code=code,
                region_name=name,
                price=money(raw, provider=self.slug, where=where),
                raw_price=str(raw),
            )
            for code, name, raw in prices
        ]
