"""Oracle Cloud (OCI) GPU shapes, from the public cost estimator's JSON.

Sources (checked 2026-12-04):
- gpuhunt ``src/gpuhunt/providers/oci.py`` and ``src/tests/providers/test_oci.py`` (github
  dstackai/gpuhunt, 3584151): ``shapes.json`` / ``products.json`` of
  https://www.oracle.com/a/ocom/docs/cloudestimator2/data/; a shape's parts are typed
  (``ocpu``, ``memory``, ``disk``); for GPU shapes the **ocpu** part is priced per GPU-hour
  (x ``gpuQty``); a usable product has ``billingModel`` "UCM", ``pricetype`` "HOUR" and one
  USD price of model "PAY_AS_YOU_GO"; integral quantities may come as floats (81.6).
- SkyPilot ``sky/catalog/data_fetchers/fetch_oci.py`` (OCI's catalog, for shape names).
- Preemptible capacity costs 50% less than on demand:
  https://docs.oracle.com/en-us/iaas/Content/Compute/Concepts/preemptible.htm
- Shape names, e.g. ``BM.GPU.L40S-NC.4`` (4x L40S) and ``BM.GPU.L40S.4``: OCI's GPU shape
  docs https://docs.oracle.com/en-us/iaas/Content/Compute/References/computeshapes.htm

API quirks:
- No credentials. Both files are ``{"items": [...]}``.
- A GPU shape (``subType.value`` "gpu") lists its parts in ``products`` with a ``type``.
  The GPU price is that of the part typed ``ocpu`` (per GPU-hour) x ``gpuQty``; a part
  typed ``memory``, when present, adds its price x ``qty``. Other part types are not
  billed per hour here and are ignored. Part prices sit in
  ``currencyCodeLocalizations[currencyCode=USD].prices[model=PAY_AS_YOU_GO].value``.
- A part whose billing model is not "UCM", whose price type is not "HOUR", or without
  exactly one pay-as-you-go USD price cannot be priced per hour: that shape is held back
  as invalid with the reason (the rest of the answer stands).
- Hidden or non-ACTIVE shapes are skipped. One price for every region (OCI's list prices
  are global), so offers go to the pseudo-region ``global``.
- Preemptible capacity is a flat 50% off where ``allowPreemptible`` is true; we publish it
  as the spot price. No availability data.
- The GPU model comes from the shape name (table below); an unknown GPU shape is passed on
  under its own name, so it is quarantined as unknown and reported.
- Unverified: whether the estimator's prices match the price list for every region
  (the estimator shows one global price).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

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
    "BM.GPU.L40S-NC": "L40S",
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
        catalog = {
            field(p, "partNumber", provider=self.slug, where="a product"): p for p in products
        }
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
            gpus = int(field(shape, "gpuQty", provider=self.slug, where=where))
            parts = field(shape, "products", provider=self.slug, where=where)
            try:
                price, raw = self._shape_price(parts, gpus, catalog, where)
                problem = ""
            except ValueError as exc:
                price, raw, problem = None, "", str(exc)
            family = name.rsplit(".", 1)[0]
            kinds: list[tuple[PricingKind, Decimal | None]] = [("on_demand", price)]
            if shape.get("allowPreemptible"):
                kinds.append(("spot", None if price is None else price * PREEMPTIBLE_DISCOUNT))
            for kind, value in kinds:
                offers.append(
                    ParsedOffer(
                        provider=self.slug,
                        instance_type=name,
                        raw_gpu_name=SHAPE_GPUS.get(family, name),
                        gpu_count=gpus,
                        region_code=GLOBAL_REGION[0],
                        region_name=GLOBAL_REGION[1],
                        pricing_kind=kind,
                        price=value,
                        price_basis="instance",
                        currency="USD",
                        raw_price=raw,
                        raw_unit="USD / GPU-hour (ocpu part) x GPUs"
                        + (", 50% preemptible" if kind == "spot" else ""),
                        observed_at=shapes_response.fetched_at,
                        details={"gpu_memory_gb": shape.get("gpuMemoryQty")}
                        | ({"unpriced": problem} if problem else {}),
                    )
                )
        return offers

    def _shape_price(
        self, parts: list[dict[str, Any]], gpus: int, catalog: dict[str, Any], where: str
    ) -> tuple[Decimal, str]:
        """The instance-hour price of a GPU shape and its GPU part's raw price, or ValueError."""
        ocpu = [
            p for p in parts if field(p, "type", "value", provider=self.slug, where=where) == "ocpu"
        ]
        if len(ocpu) != 1:
            raise ValueError(f"{where} has {len(ocpu)} ocpu parts, expected one")
        per_gpu, raw = self._part_price(ocpu[0], catalog, where)
        total = per_gpu * gpus
        for part in parts:
            if part.get("type", {}).get("value") == "memory":
                price, _ = self._part_price(part, catalog, where)
                qty = money(part.get("qty"), provider=self.slug, where=where)
                total += price * qty
        return total, raw

    def _part_price(
        self, part: dict[str, Any], catalog: dict[str, Any], where: str
    ) -> tuple[Decimal, str]:
        number = part.get("partNumber")
        product = catalog.get(number)
        if product is None:
            raise ValueError(f"{where}: part {number} is not in products.json")
        if product.get("billingModel") != "UCM" or product.get("pricetype") != "HOUR":
            raise ValueError(
                f"{where}: part {number} is billed {product.get('billingModel')!r}"
                f" per {product.get('pricetype')!r}, not pay-as-you-go per hour"
            )
        usd = [
            price
            for l10n in product.get("currencyCodeLocalizations") or []
            if l10n.get("currencyCode") == "USD"
            for price in l10n.get("prices") or []
        ]
        if len(usd) != 1 or usd[0].get("model") != "PAY_AS_YOU_GO":
            raise ValueError(f"{where}: part {number} has no single pay-as-you-go USD price")
        value = field(usd[0], "value", provider=self.slug, where=f"part {number}")
        return money(value, provider=self.slug, where=f"part {number}"), str(value)
