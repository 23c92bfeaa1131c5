"""Google Cloud GPU VMs, composed from the Cloud Billing catalog's per-resource SKUs.

API quirks, from the Cloud Billing docs and gpuhunt/SkyPilot:
- ``GET https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus`` (Compute
  Engine) with an API key (``GCP_API_KEY``) in ``?key=``. Pages via ``pageToken`` /
  ``nextPageToken`` (empty on the last page); we ask 5,000 SKUs a page.
- There is no price per machine type. A GPU VM is priced as GPUs + vCPUs + RAM, each its
  own SKU per region: "Nvidia H100 80GB GPU running in Americas" (per GPU-hour),
  "A3 Instance Core running in Americas" (per vCPU-hour), "A3 Instance Ram …" (per
  GiB-hour). N1 VMs carry T4 and V100 cards with "N1 Predefined Instance Core/Ram".
  Machine shapes (vCPUs, GiB, GPUs) are the table below, from the machine-type docs.
- A price is ``units`` + ``nanos`` / 1e9 in ``pricingInfo[0].pricingExpression
  .tieredRates``; we take the last tier (the first can be a free tier at zero).
- Spot SKUs repeat the description after "Spot Preemptible ". ``serviceRegions`` lists
  the regions a SKU applies to; a machine is offered where all three parts are priced.
- a3-highgpu-1g/2g/4g and a4 are not sold on demand and are not listed. No availability.
- The key is never archived: it is stripped from the stored URL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from urllib.parse import urlencode

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, PricingKind, RawResponse
from site_builder.pull.gpu.providers.base import Adapter, field, load_json, record

API_URL = "https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus"
PAGE_SIZE = 5000
MAX_PAGES = 100
SPOT_PREFIX = "Spot Preemptible "
# Base SKU description -> accelerator id (the name GCP's APIs and the catalog use)
GPU_SKUS = {
    "Nvidia H100 80GB GPU": "nvidia-h100-80gb",
    "Nvidia H100 80GB Mega GPU": "nvidia-h100-mega-80gb",
    "Nvidia H200 141GB GPU": "nvidia-h200-141gb",
    "Nvidia Tesla A100 GPU": "nvidia-tesla-a100",
    "Nvidia Tesla A100 80GB GPU": "nvidia-a100-80gb",
    "Nvidia L4 GPU": "nvidia-l4",
    "Nvidia Tesla T4 GPU": "nvidia-tesla-t4",
    "Nvidia Tesla V100 GPU": "nvidia-tesla-v100",
}
CPU_FAMILIES = {
    "A3": "A3 Instance",
    "A2": "A2 Instance",
    "G2": "G2 Instance",
    "N1": "N1 Predefined Instance",
}


@dataclass(frozen=True)
class MachineShape:
    accelerator: str
    gpus: int
    vcpus: int
    memory_gib: int
    cpu_family: str


MACHINES = {
    "a3-highgpu-8g": MachineShape("nvidia-h100-80gb", 8, 208, 1872, "A3"),
    "a3-megagpu-8g": MachineShape("nvidia-h100-mega-80gb", 8, 208, 1872, "A3"),
    "a3-ultragpu-8g": MachineShape("nvidia-h200-141gb", 8, 224, 2952, "A3"),
    "a2-highgpu-1g": MachineShape("nvidia-tesla-a100", 1, 12, 85, "A2"),
    "a2-highgpu-8g": MachineShape("nvidia-tesla-a100", 8, 96, 680, "A2"),
    "a2-ultragpu-1g": MachineShape("nvidia-a100-80gb", 1, 12, 170, "A2"),
    "a2-ultragpu-8g": MachineShape("nvidia-a100-80gb", 8, 96, 1360, "A2"),
    "g2-standard-8": MachineShape("nvidia-l4", 1, 8, 32, "G2"),
    "g2-standard-48": MachineShape("nvidia-l4", 4, 48, 192, "G2"),
    "n1-standard-8-t4": MachineShape("nvidia-tesla-t4", 1, 8, 30, "N1"),
    "n1-standard-8-v100": MachineShape("nvidia-tesla-v100", 1, 8, 30, "N1"),
}


def unit_price(sku: dict[str, object], where: str) -> Decimal:
    rates = field(
        sku, "pricingInfo", 0, "pricingExpression", "tieredRates", provider="gcp", where=where
    )
    if not rates:
        raise DataError(f"gcp: {where} has no tiered rates")
    price = field(rates[-1], "unitPrice", provider="gcp", where=where)
    units = field(price, "units", provider="gcp", where=where)
    nanos = field(price, "nanos", provider="gcp", where=where)
    currency = field(price, "currencyCode", provider="gcp", where=where)
    if currency != "USD":
        raise DataError(f"gcp: {where}: price in {currency}, expected USD")
    try:
        return Decimal(int(units)) + Decimal(int(nanos)) / Decimal(1_000_000_000)
    except (TypeError, ValueError):
        raise DataError(f"gcp: {where}: price {units!r}/{nanos!r} is not a number") from None


def component(description: str) -> tuple[bool, str] | None:
    """("Spot Preemptible A3 Instance Core running in Americas") -> (True, "A3 Instance Core")."""
    spot = description.startswith(SPOT_PREFIX)
    base = description.removeprefix(SPOT_PREFIX).split(" running in ", 1)[0].strip()
    if base in GPU_SKUS:
        return spot, GPU_SKUS[base]
    for prefix in CPU_FAMILIES.values():
        if base in (f"{prefix} Core", f"{prefix} Ram"):
            return spot, base
    return None


class GcpAdapter(Adapter):
    slug = "gcp"
    name = "Google Cloud"
    website = "https://cloud.google.com/compute/gpus-pricing"
    credential_env = ("GCP_API_KEY",)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        responses = []
        token = ""
        for page in range(MAX_PAGES):
            params = {"key": credentials["GCP_API_KEY"], "pageSize": str(PAGE_SIZE)}
            if token:
                params["pageToken"] = token
            response = await http.get(f"{self.url(API_URL)}?{urlencode(params)}")
            kept = record(f"skus-{page:03d}", response)
            public = {k: v for k, v in params.items() if k != "key"}
            responses.append(replace(kept, url=f"{self.url(API_URL)}?{urlencode(public)}"))
            token = load_json(kept, self.slug).get("nextPageToken") or ""
            if not token:
                return responses
        raise DataError(f"{self.slug}: more than {MAX_PAGES} pages; refusing to go on")

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        pages = sorted((r for r in responses if r.name.startswith("skus-")), key=lambda r: r.name)
        if not pages:
            raise DataError(f"{self.slug}: no 'skus-*' response in the fetched data")
        # (region, spot) -> component -> USD per unit-hour
        prices: dict[tuple[str, bool], dict[str, Decimal]] = defaultdict(dict)
        for page in pages:
            skus = field(load_json(page, self.slug), "skus", provider=self.slug, where=page.name)
            for sku in skus:
                description = field(sku, "description", provider=self.slug, where=page.name)
                parsed = component(str(description))
                if parsed is None:
                    continue
                spot, part = parsed
                price = unit_price(sku, f"SKU {description!r}")
                regions = field(sku, "serviceRegions", provider=self.slug, where=description)
                for region in regions:
                    prices[(region, spot)][part] = price
        observed_at = max(p.fetched_at for p in pages)
        offers = []
        for (region, spot), parts in sorted(prices.items()):
            for machine, shape in MACHINES.items():
                family = CPU_FAMILIES[shape.cpu_family]
                gpu = parts.get(shape.accelerator)
                core, ram = parts.get(f"{family} Core"), parts.get(f"{family} Ram")
                if gpu is None or core is None or ram is None:
                    continue  # not offered in this region (or not as spot)
                total = gpu * shape.gpus + core * shape.vcpus + ram * shape.memory_gib
                kind: PricingKind = "spot" if spot else "on_demand"
                offers.append(
                    ParsedOffer(
                        provider=self.slug,
                        instance_type=machine,
                        raw_gpu_name=shape.accelerator,
                        gpu_count=shape.gpus,
                        region_code=region,
                        region_name=region,
                        pricing_kind=kind,
                        price=total,
                        price_basis="instance",
                        currency="USD",
                        raw_price=str(total),
                        raw_unit="USD / instance-hour, composed from GPU + vCPU + RAM SKUs",
                        observed_at=observed_at,
                        vcpus=shape.vcpus,
                        memory_gb=float(shape.memory_gib),
                        details={
                            "gpu_hour": str(gpu),
                            "vcpu_hour": str(core),
                            "gib_hour": str(ram),
                        },
                    )
                )
        return offers
