"""Vultr Cloud GPU (``vcg`` plans) and bare-metal GPU plans.

Evidence (checked 2026-12-04): gpuhunt ``src/gpuhunt/providers/vultr.py`` and its test
fixtures ``src/tests/providers/test_vultr.py`` (dstackai/gpuhunt at 3584151); Vultr API v2
reference https://www.vultr.com/api/#tag/plans.

- ``GET https://api.vultr.com/v2/plans?type=vcg&per_page=500`` and
  ``GET https://api.vultr.com/v2/plans-metal?per_page=500``; no key needed (gpuhunt sends
  none). Paging is by cursor: ``meta.links.next`` is followed while it is non-empty
  (``&cursor=``); gpuhunt reads only the first page of 500.
- ``plans[]``: ``id``, ``type`` ("vcg"), ``gpu_type`` ("NVIDIA_A100"), ``gpu_vram_gb`` (the
  plan's total VRAM), ``hourly_cost`` (USD per instance-hour, a float), ``vcpu_count``,
  ``ram`` (MB), ``locations`` (region ids). Quirk: **fractional GPUs** — a plan with less
  VRAM than one card (``vcg-a100-1c-6g-4vram``) is a slice of a GPU; it is not a GPU offer
  and is skipped (gpuhunt counts it as 1 GPU). The GPU count of a whole-GPU plan is
  ``gpu_vram_gb`` ÷ the card's memory (table below).
- ``plans_metal[]``: no GPU fields; the id carries them (``vbm-112c-2048gb-8-h100-gpu``;
  no count means one: ``vbm-72c-480gb-gh200-gpu``),
  ``cpu_threads``, ``ram`` (MB), ``hourly_cost`` and ``hourly_cost_preemptible`` (kept as
  spot).
- Both carry ``disk`` (GB per disk) and ``disk_count`` (Vultr API v2 "List Plans"; 1 when
  absent): the storage stored is their product.
- A zero ``hourly_cost`` (the free tier) is not a price: skipped.

Unverified: the card memory per ``gpu_type`` is ours (gpuhunt: A100 = 80 GB); the form
factor of Vultr's A100/H100 (PCIe vs SXM) is not in the API — the catalog maps them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, RawResponse
from site_builder.pull.gpu.providers.base import Adapter, field, load_json, money, record
from site_builder.pull.gpu.sizes import storage_gb

API = "https://api.vultr.com/v2"
MAX_PAGES = 20
CARD_VRAM_GB = {
    "NVIDIA_A100": 80,
    "NVIDIA_H100": 80,
    "NVIDIA_L40S": 48,
    "NVIDIA_A40": 48,
    "NVIDIA_A16": 16,
    "NVIDIA_GH200": 96,
    "AMD_MI300X": 192,
}
METAL_ID = re.compile(r"(?:-(\d+))?-([a-z0-9]+)-gpu$")


class VultrAdapter(Adapter):
    slug = "vultr"
    name = "Vultr"
    website = "https://www.vultr.com"

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        responses: list[RawResponse] = []
        for name, path, query in (
            ("plans", "/plans", {"type": "vcg", "per_page": "500"}),
            ("plans-metal", "/plans-metal", {"per_page": "500"}),
        ):
            cursor = ""
            for page in range(MAX_PAGES):
                params = dict(query, **({"cursor": cursor} if cursor else {}))
                response = await http.get(self.url(f"{API}{path}?{urlencode(params)}"))
                responses.append(record(f"{name}-{page + 1}", response))
                body = response.json() if response.status_code == 200 else {}
                cursor = ((body.get("meta") or {}).get("links") or {}).get("next") or ""
                if not cursor:
                    break
        return responses

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        offers: list[ParsedOffer] = []
        names = {r.name.rsplit("-", 1)[0] for r in responses}
        if not {"plans", "plans-metal"} <= names:
            raise DataError(f"{self.slug}: expected plans and plans-metal responses")
        for response in responses:
            document = load_json(response, self.slug)
            if response.name.startswith("plans-metal"):
                plans = field(document, "plans_metal", provider=self.slug, where=response.name)
                for plan in plans:
                    offers += self._metal(plan, response)
            else:
                for plan in field(document, "plans", provider=self.slug, where=response.name):
                    offers += self._cloud_gpu(plan, response)
        return offers

    def _cloud_gpu(self, plan: dict[str, Any], response: RawResponse) -> list[ParsedOffer]:
        where = f"plan {plan.get('id')!r}"
        if plan.get("type") != "vcg":
            return []
        gpu_type = str(field(plan, "gpu_type", provider=self.slug, where=where))
        total = int(field(plan, "gpu_vram_gb", provider=self.slug, where=where))
        card = CARD_VRAM_GB.get(gpu_type)
        if card is None:
            card = total  # unknown card: a whole-GPU plan of one card; the catalog decides
        if total < card:
            return []  # a fraction of a GPU
        return self._offers(
            plan,
            response,
            gpu_name=gpu_type,
            count=max(1, total // card),
            vcpus=plan.get("vcpu_count"),
            kinds=[("on_demand", "hourly_cost")],
        )

    def _metal(self, plan: dict[str, Any], response: RawResponse) -> list[ParsedOffer]:
        plan_id = str(field(plan, "id", provider=self.slug, where="a bare-metal plan"))
        match = METAL_ID.search(plan_id)
        if "gpu" not in plan_id:
            return []
        if match is None:
            raise DataError(f"{self.slug}: bare-metal plan id {plan_id!r} names no GPU model")
        kinds = [("on_demand", "hourly_cost")]
        if plan.get("hourly_cost_preemptible"):
            kinds.append(("spot", "hourly_cost_preemptible"))
        return self._offers(
            plan,
            response,
            gpu_name=f"metal {match.group(2)}",
            count=int(match.group(1) or 1),  # "vbm-72c-480gb-gh200-gpu": one superchip
            vcpus=plan.get("cpu_threads"),
            kinds=kinds,
        )

    def _offers(
        self,
        plan: dict[str, Any],
        response: RawResponse,
        *,
        gpu_name: str,
        count: int,
        vcpus: Any,
        kinds: list[tuple[str, str]],
    ) -> list[ParsedOffer]:
        where = f"plan {plan.get('id')!r}"
        offers = []
        for kind, key in kinds:
            raw = field(plan, key, provider=self.slug, where=where)
            price = money(raw, provider=self.slug, where=where)
            if price == 0:
                continue  # the free tier
            for location in field(plan, "locations", provider=self.slug, where=where):
                offers.append(
                    ParsedOffer(
                        provider=self.slug,
                        instance_type=str(plan["id"]),
                        raw_gpu_name=gpu_name,
                        gpu_count=count,
                        region_code=str(location),
                        region_name=str(location),
                        pricing_kind=kind,  # type: ignore[arg-type]
                        price=price,
                        price_basis="instance",
                        currency="USD",
                        raw_price=str(raw),
                        raw_unit="USD / instance-hour",
                        observed_at=response.fetched_at,
                        vcpus=vcpus,
                        memory_gb=float(Decimal(str(plan.get("ram", 0))) / 1024) or None,
                        storage_gb=_disk_gb(plan),
                    )
                )
        return offers


def _disk_gb(plan: dict[str, Any]) -> Any:
    """Vultr's ``disk`` is per disk, in GB; a plan with two disks has ``disk_count`` 2."""
    size = storage_gb(plan.get("disk"), "GB")
    count = plan.get("disk_count", 1)
    if not isinstance(size, float) or isinstance(count, bool) or not isinstance(count, int):
        return size  # None, or a value the store drops and names
    return round(size * count, 1)
