"""DigitalOcean GPU Droplets.

Evidence (checked 2026-12-04): gpuhunt ``src/gpuhunt/providers/digitalocean.py`` and the
fixture in ``src/tests/providers/test_digitalocean.py`` (dstackai/gpuhunt at 3584151);
DigitalOcean API reference https://docs.digitalocean.com/reference/api/ (``/v2/sizes``).

- ``GET https://api.digitalocean.com/v2/sizes?per_page=200``, Bearer ``DIGITALOCEAN_TOKEN``
  (required). Paging: ``links.pages.next`` is a full URL, followed while present.
- ``sizes[]``: ``slug`` ("gpu-h100x8-640gb"), ``price_hourly`` (USD per Droplet-hour,
  float), ``vcpus``, ``memory`` (**MB**), ``regions`` (slugs), ``available``, and for GPU
  sizes ``gpu_info``: ``count``, ``vram.amount`` (GiB, total), ``model`` ("nvidia_h100",
  "amd_mi300x", "nvidia_rtx6000_ada"); ``disk_info[]`` (API reference, Sizes): each disk's
  ``type`` ("local" boot disk, "scratch") and ``size`` {``amount``, ``unit``: "gib"}. The
  storage stored is every disk's size, converted from its unit to decimal GB.
- Quirks: CPU sizes have no ``gpu_info`` (skipped); a size with an empty ``regions`` list
  (or ``available: false``) cannot be created now — kept once, in the pseudo-region
  ``any``, marked unavailable, so its price stays visible.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

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
from site_builder.pull.gpu.sizes import GB_PER_UNIT, storage_gb

API_URL = "https://api.digitalocean.com/v2/sizes?per_page=200"
MAX_PAGES = 20


class DigitalOceanAdapter(Adapter):
    slug = "digitalocean"
    name = "DigitalOcean"
    website = "https://www.digitalocean.com"
    credential_env = ("DIGITALOCEAN_TOKEN",)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        responses: list[RawResponse] = []
        url: str | None = API_URL
        headers = bearer(credentials, "DIGITALOCEAN_TOKEN")
        for page in range(MAX_PAGES):
            if not url:
                break
            response = await http.get(self.url(url), headers=headers)
            responses.append(record(f"sizes-{page + 1}", response))
            body = response.json() if response.status_code == 200 else {}
            url = ((body.get("links") or {}).get("pages") or {}).get("next")
        return responses

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        offers: list[ParsedOffer] = []
        for response in responses:
            document = load_json(response, self.slug)
            for size in field(document, "sizes", provider=self.slug, where=response.name):
                gpu = size.get("gpu_info")
                if not gpu:
                    continue
                where = f"size {size.get('slug')!r}"
                raw = field(size, "price_hourly", provider=self.slug, where=where)
                regions = list(field(size, "regions", provider=self.slug, where=where))
                available = bool(size.get("available", True)) and bool(regions)
                common = {
                    "provider": self.slug,
                    "instance_type": str(field(size, "slug", provider=self.slug, where=where)),
                    "raw_gpu_name": str(field(gpu, "model", provider=self.slug, where=where)),
                    "gpu_count": int(field(gpu, "count", provider=self.slug, where=where)),
                    "pricing_kind": "on_demand",
                    "price": money(raw, provider=self.slug, where=where),
                    "price_basis": "instance",
                    "currency": "USD",
                    "raw_price": str(raw),
                    "raw_unit": "USD / Droplet-hour",
                    "observed_at": response.fetched_at,
                    "vcpus": size.get("vcpus"),
                    "memory_gb": float(Decimal(str(size.get("memory", 0))) / 1024) or None,
                    "storage_gb": _disks_gb(size),
                }
                for region in regions or ["any"]:
                    offers.append(
                        ParsedOffer(
                            **common,  # type: ignore[arg-type]
                            region_code=region,
                            region_name=region if regions else "Any region (not available)",
                            available=available,
                        )
                    )
        return offers


def _disks_gb(size: dict[str, Any]) -> Any:
    """The boot and scratch disks of a size together, in decimal GB (DigitalOcean states
    each in GiB); None when the size lists none."""
    disks = size.get("disk_info")
    if not isinstance(disks, list) or not disks:
        return None
    total = 0.0
    for disk in disks:
        amount = (disk.get("size") or {}) if isinstance(disk, dict) else {}
        unit = str(amount.get("unit", "")).lower()
        if unit not in GB_PER_UNIT:
            return f"{amount.get('amount')} {unit or '(no unit)'}"  # dropped, and named
        gb = storage_gb(amount.get("amount"), unit)
        if not isinstance(gb, float):
            return gb
        total += gb
    return round(total, 1)
