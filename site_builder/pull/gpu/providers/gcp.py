"""Google Cloud GPU VMs, composed from the Cloud Billing catalog's per-resource SKUs.

Sources (checked 2026-12-04):
- Cloud Billing Catalog API, ``services.skus.list``:
  https://cloud.google.com/billing/docs/reference/rest/v1/services.skus/list
- gpuhunt ``src/gpuhunt/providers/gcp.py`` (github dstackai/gpuhunt, 3584151): the SKU
  description pattern, "A3Plus Instance" = a3-megagpu, "Nvidia H100 80GB Plus GPU" = the
  A3 Mega GPU, local SSD ("SSD backed Local Storage", per GiB-month / 730) and its bundled
  sizes per machine type, and the machine types not sold on demand.
- SkyPilot ``sky/catalog/data_fetchers/fetch_gcp.py``: GPU SKUs matched by "H200 141GB GPU"
  (no "Nvidia" prefix) and "H100 80GB Mega GPU" / "H100 80GB Plus GPU"; usage types
  OnDemand / Preemptible; commitment, custom, premium, reserved, sole-tenancy SKUs pruned.
- Machine shapes: https://cloud.google.com/compute/docs/accelerator-optimized-machines and
  its "consumption option availability by machine type" table.

API quirks:
- ``GET https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus`` (Compute
  Engine) with an API key (``GCP_API_KEY``) in ``?key=``. Pages via ``pageToken`` /
  ``nextPageToken`` (empty on the last page); we ask 5,000 SKUs a page.
- There is no price per machine type. A GPU VM is GPUs + vCPUs + RAM (+ the local SSD some
  machine types bundle), each its own SKU per region: "Nvidia H100 80GB GPU running in
  Americas" (per GPU-hour), "A3 Instance Core running in Americas" (per vCPU-hour), "A3
  Instance Ram …" (per GiB-hour), "SSD backed Local Storage …" (per GiB-**month**: / 730).
- Names differ by machine type: H200 SKUs read "H200 141GB GPU" (no "Nvidia"); A3 Mega's
  vCPU/RAM are "A3Plus Instance Core/Ram" and its GPU is "Nvidia H100 80GB Mega GPU" or,
  in some regions and for spot, "Nvidia H100 80GB Plus GPU"; A3 Ultra's are "A3Ultra
  Instance Core/Ram".
- The kind comes from ``category.usageType`` ("OnDemand" or "Preemptible" = spot); other
  usage types (commitments) and descriptions naming Reserved, Sole Tenancy, Premium,
  Custom or DWS Calendar Mode are skipped. A price is ``units`` + ``nanos`` / 1e9 of
  ``tieredRates``; we take the last tier (the first can be a free tier at zero).
- ``serviceRegions`` lists the regions a SKU applies to; a machine is offered where all its
  parts are priced for that kind.
- a3-ultragpu-8g (H200), a3-highgpu-1g/2g/4g and a4 are sold by reservation (or DWS)
  only, not on demand: no on-demand offer is listed for them; their spot prices are.
- Unverified: a3-ultragpu-8g's bundled local SSD (12,000 GiB) is from the machine-type
  docs as we read them; gpuhunt's table does not list it. No availability data.
- The key is never archived: it is stripped from the stored URL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, PricingKind, RawResponse
from site_builder.pull.gpu.providers.base import Adapter, field, load_json, record
from site_builder.pull.gpu.sizes import storage_gb

API_URL = "https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus"
PAGE_SIZE = 5000
MAX_PAGES = 100
SPOT_PREFIX = "Spot Preemptible "
HOURS_PER_MONTH = Decimal(730)  # GCP's own month for per-month SKUs
LOCAL_SSD = "local-ssd"
SKIPPED_WORDS = ("Reserved", "Sole Tenancy", "Premium", "Custom", "DWS", "Calendar Mode")
KINDS: dict[str, PricingKind] = {"OnDemand": "on_demand", "Preemptible": "spot"}
# Base SKU description -> accelerator id (the name GCP's APIs and the catalog use)
GPU_SKUS = {
    "Nvidia H100 80GB GPU": "nvidia-h100-80gb",
    "Nvidia H100 80GB Mega GPU": "nvidia-h100-mega-80gb",
    "Nvidia H100 Mega 80GB GPU": "nvidia-h100-mega-80gb",
    "Nvidia H100 80GB Plus GPU": "nvidia-h100-mega-80gb",
    "H200 141GB GPU": "nvidia-h200-141gb",
    "Nvidia H200 141GB GPU": "nvidia-h200-141gb",
    "Nvidia Tesla A100 GPU": "nvidia-tesla-a100",
    "Nvidia Tesla A100 80GB GPU": "nvidia-a100-80gb",
    "Nvidia L4 GPU": "nvidia-l4",
    "Nvidia Tesla T4 GPU": "nvidia-tesla-t4",
    "Nvidia Tesla V100 GPU": "nvidia-tesla-v100",
}
CPU_FAMILIES = {
    "A3": "A3 Instance",
    "A3Plus": "A3Plus Instance",
    "A3Ultra": "A3Ultra Instance",
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
    local_ssd_gib: int = 0  # bundled with the machine type, always billed
    on_demand: bool = True  # False: sold by reservation only (spot still listed)


MACHINES = {
    "a3-highgpu-8g": MachineShape("nvidia-h100-80gb", 8, 208, 1872, "A3", 16 * 375),
    "a3-megagpu-8g": MachineShape("nvidia-h100-mega-80gb", 8, 208, 1872, "A3Plus", 16 * 375),
    "a3-ultragpu-8g": MachineShape(
        "nvidia-h200-141gb", 8, 224, 2952, "A3Ultra", 32 * 375, on_demand=False
    ),
    "a2-highgpu-1g": MachineShape("nvidia-tesla-a100", 1, 12, 85, "A2"),
    "a2-highgpu-8g": MachineShape("nvidia-tesla-a100", 8, 96, 680, "A2"),
    "a2-ultragpu-1g": MachineShape("nvidia-a100-80gb", 1, 12, 170, "A2", 375),
    "a2-ultragpu-8g": MachineShape("nvidia-a100-80gb", 8, 96, 1360, "A2", 8 * 375),
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
    # Proto3 JSON omits zero fields: a price under 1 USD has no "units", a whole one no "nanos".
    units = price.get("units", "0") if isinstance(price, dict) else None
    nanos = price.get("nanos", 0) if isinstance(price, dict) else None
    currency = field(price, "currencyCode", provider="gcp", where=where)
    if currency != "USD":
        raise DataError(f"gcp: {where}: price in {currency}, expected USD")
    try:
        return Decimal(int(units)) + Decimal(int(nanos)) / Decimal(1_000_000_000)
    except (TypeError, ValueError):
        raise DataError(f"gcp: {where}: price {units!r}/{nanos!r} is not a number") from None


def component(description: str, resource_family: str) -> str | None:
    """The part a SKU prices ("nvidia-h100-80gb", "A3 Instance Core", `LOCAL_SSD`), or None.

    "Spot Preemptible A3 Instance Core running in Americas" -> "A3 Instance Core"."""
    if any(word in description for word in SKIPPED_WORDS):
        return None
    base = description.removeprefix(SPOT_PREFIX).split(" running in ", 1)[0].strip()
    if resource_family == "Storage":
        return LOCAL_SSD if base.lower().startswith("ssd backed local storage") else None
    if base in GPU_SKUS:
        return GPU_SKUS[base]
    for prefix in CPU_FAMILIES.values():
        if base in (f"{prefix} Core", f"{prefix} Ram"):
            return base
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
        # (region, kind) -> component -> USD per unit-hour
        prices: dict[tuple[str, PricingKind], dict[str, Decimal]] = defaultdict(dict)
        for page in pages:
            skus = field(load_json(page, self.slug), "skus", provider=self.slug, where=page.name)
            for sku in skus:
                description = str(field(sku, "description", provider=self.slug, where=page.name))
                where = f"SKU {description!r}"
                usage = field(sku, "category", "usageType", provider=self.slug, where=where)
                family = field(sku, "category", "resourceFamily", provider=self.slug, where=where)
                kind = KINDS.get(str(usage))
                part = component(description, str(family))
                if kind is None or part is None:
                    continue
                price = unit_price(sku, where)
                if part == LOCAL_SSD:
                    price = price / HOURS_PER_MONTH
                regions = field(sku, "serviceRegions", provider=self.slug, where=where)
                for region in regions:
                    prices[(region, kind)][part] = price
        observed_at = max(p.fetched_at for p in pages)
        offers = []
        for (region, kind), parts in sorted(prices.items()):
            for machine, shape in MACHINES.items():
                if kind == "on_demand" and not shape.on_demand:
                    continue  # reservation-only: no on-demand price to list
                offer = self._machine(machine, shape, region, kind, parts, observed_at)
                if offer is not None:
                    offers.append(offer)
        return offers

    def _machine(
        self,
        machine: str,
        shape: MachineShape,
        region: str,
        kind: PricingKind,
        parts: dict[str, Decimal],
        observed_at: datetime,
    ) -> ParsedOffer | None:
        family = CPU_FAMILIES[shape.cpu_family]
        gpu = parts.get(shape.accelerator)
        core, ram = parts.get(f"{family} Core"), parts.get(f"{family} Ram")
        ssd = parts.get(LOCAL_SSD) if shape.local_ssd_gib else Decimal(0)
        if gpu is None or core is None or ram is None or ssd is None:
            return None  # not offered in this region (or not as this kind)
        total = (
            gpu * shape.gpus
            + core * shape.vcpus
            + ram * shape.memory_gib
            + ssd * shape.local_ssd_gib
        )
        return ParsedOffer(
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
            raw_unit="USD / instance-hour, sum of GPU, vCPU, RAM, SSD SKUs",
            observed_at=observed_at,
            vcpus=shape.vcpus,
            memory_gb=float(shape.memory_gib),
            # the bundled local SSD, priced into `total`; machines without one: not stated
            storage_gb=storage_gb(shape.local_ssd_gib, "GiB") if shape.local_ssd_gib else None,
            details={
                "gpu_hour": str(gpu),
                "vcpu_hour": str(core),
                "gib_hour": str(ram),
                "local_ssd_gib": shape.local_ssd_gib,
                "local_ssd_gib_hour": str(ssd) if shape.local_ssd_gib else None,
                "sold_on_demand": shape.on_demand,
            },
        )
