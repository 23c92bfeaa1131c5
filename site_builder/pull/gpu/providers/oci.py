"""Oracle Cloud (OCI) GPU shapes, from the public cost estimator's JSON.

API quirks, from the estimator's data files and gpuhunt:
- No credentials. ``https://www.oracle.com/a/ocom/docs/cloudestimator2/data/shapes.json``
  lists shapes; ``products.json`` lists price parts. Both are ``{"items": [...]}``.
- A GPU shape (``subType.value`` "gpu") names its parts in ``products``; for GPU shapes
  the part is priced **per GPU-hour**, so the instance price is that price x ``gpuQty``.
  Part prices sit in ``currencyCodeLocalizations[currencyCode=USD].prices
  [model=PAY_AS_YOU_GO].value`` as floats.
- Hidden or non-ACTIVE shapes are skipped. One price for every region (OCI's list prices
  are global), so offers go to the pseudo-region ``global``.
- Preemptible capacity is a flat 50% off where ``allowPreemptible`` is true; we publish it
  as the spot price. No availability data.
- The GPU model comes from the shape name (table below); an unknown GPU shape is passed on
  under its own name, so it is quarantined as unknown and reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, RawResponse
from site_builder.pull.gpu.providers.base import (
    Adapter,
    field,
    load_json,
    money,
    record,
    response_named,
)

DATA_URL = "https://www.oracle.com/a/ocom/docs/cloudestimator2/data"
PREEMPTIBLE_DISCOUNT = Decimal("0.5")
GLOBAL_REGION = ("global", "All OCI regions (one list price)")
# Shape name without the trailing GPU count -> GPU name as the catalog knows it
SHAPE_GPUS = {
    "BM.GPU.B200": "B200",
    "BM.GPU.H200": "H200 SXM",
    "BM.GPU.H100": "H100 SXM",
    "BM.GPU.A100-v2": "A100 SXM4 80GB",
    "BM.GPU4": "A100 SXM4 40GB",
    "BM.GPU.L40S": "L40S",
    "BM.GPU.A10": "A10",
    "VM.GPU.A10": "A10",
    "BM.GPU.MI300X": "MI300X",
    "BM.GPU3": "Tesla V100-SXM2-16GB",
    "VM.GPU3": "Tesla V100-SXM2-16GB",
}


class OciAdapter(Adapter):
    slug = "oci"
    name = "Oracle Cloud"
    website = "https://www.oracle.com/cloud/compute/gpu/"

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        return [
            record(name, await http.get(self.url(f"{DATA_URL}/{name}.json")))
            for name in ("shapes", "products")
        ]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        shapes_response = response_named(responses, self.slug, "shapes")
        products_response = response_named(responses, self.slug, "products")
        products = field(
            load_json(products_response, self.slug), "items", provider=self.slug, where="products"
        )
        usd: dict[str, tuple[Decimal, str]] = {}
        for product in products:
            part = field(product, "partNumber", provider=self.slug, where="a product")
            for localization in product.get("currencyCodeLocalizations") or []:
                if localization.get("currencyCode") != "USD":
                    continue
                for price in localization.get("prices") or []:
                    if price.get("model") == "PAY_AS_YOU_GO":
                        value = field(price, "value", provider=self.slug, where=f"part {part}")
                        usd[part] = (
                            money(value, provider=self.slug, where=f"part {part}"),
                            str(value),
                        )
        shapes = field(
            load_json(shapes_response, self.slug), "items", provider=self.slug, where="shapes"
        )
        offers = []
        for shape in shapes:
            name = field(shape, "name", provider=self.slug, where="a shape")
            where = f"shape {name}"
            sub_type = field(shape, "subType", "value", provider=self.slug, where=where)
            if sub_type != "gpu" or shape.get("hidden") or shape.get("status") != "ACTIVE":
                continue
            gpus = field(shape, "gpuQty", provider=self.slug, where=where)
            parts = field(shape, "products", provider=self.slug, where=where)
            priced = [usd[p["partNumber"]] for p in parts if p.get("partNumber") in usd]
            if not priced:
                raise DataError(f"{self.slug}: {where}: none of its parts has a USD price")
            per_gpu, raw = priced[0]
            family = name.rsplit(".", 1)[0]
            kinds = [("on_demand", per_gpu)]
            if shape.get("allowPreemptible"):
                kinds.append(("spot", per_gpu * PREEMPTIBLE_DISCOUNT))
            for kind, price in kinds:
                offers.append(
                    ParsedOffer(
                        provider=self.slug,
                        instance_type=name,
                        raw_gpu_name=SHAPE_GPUS.get(family, name),
                        gpu_count=int(gpus),
                        region_code=GLOBAL_REGION[0],
                        region_name=GLOBAL_REGION[1],
                        pricing_kind=kind,  # type: ignore[arg-type]
                        price=price,
                        price_basis="gpu",
                        currency="USD",
                        raw_price=raw,
                        raw_unit="USD / GPU-hour"
                        + (" (preemptible: 50% of list)" if kind == "spot" else ""),
                        observed_at=shapes_response.fetched_at,
                        details={"gpu_memory_gb": shape.get("gpuMemoryQty")},
                    )
                )
        return offers
