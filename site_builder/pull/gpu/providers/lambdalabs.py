"""Lambda (lambda.ai) on-demand GPU instances.

Sources (checked 2026-12-04):
- Lambda Cloud API (OpenAPI 1.10.0, "List available instance types", ``GET
  https://cloud.lambda.ai/api/v1/instance-types``, about one request per second), as
  mirrored in github api-evangelist/lambda-labs ``openapi/`` and ``collections/``.
- gpuhunt ``src/gpuhunt/providers/lambdalabs.py`` (github dstackai/gpuhunt, 3584151):
  ``data.<type>.instance_type.price_cents_per_hour`` / 100, ``specs.vcpus``,
  ``specs.memory_gib``, Bearer token (the OpenAPI schema adds ``specs.storage_gib``: local
  disk in GiB, stored converted to decimal GB); it repeats one price across every region.
- SkyPilot ``sky/catalog/data_fetchers/fetch_lambda_cloud.py``: the same endpoint and
  fields, ``regions_with_capacity_available`` for where a type can be launched.

API quirks, from the public docs and gpuhunt:
- ``GET https://cloud.lambda.ai/api/v1/instance-types`` (the old host cloud.lambdalabs.com
  still answers), Bearer auth with ``LAMBDA_API_KEY``; about one request per second.
- One object per instance type under ``data``; prices are **integer cents per instance-hour**
  (``price_cents_per_hour``); the GPU count is ``specs.gpus``. No spot or reserved prices.
- One price for every region. Availability is explicit: ``regions_with_capacity_available``
  lists the regions where the type can be launched now; a sold-out type has an empty list.
  We keep a sold-out type as one offer in the pseudo-region ``any`` with ``available=False``,
  so its price stays visible and its history unbroken.
- The GPU name is in ``gpu_description`` ("H100 (80 GB SXM5)"); ``gpu_1x_a100`` is the 40 GB
  PCIe card, ``gpu_1x_rtx6000`` the 24 GB Quadro (not RTX 6000 Ada).
- Unverified: that ``gpu_description`` keeps its "H100 (80 GB SXM5)" form for new types
  (gpuhunt parses ``description`` instead); an unknown form is quarantined, not guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, RawResponse
from site_builder.pull.gpu.providers.base import (
    Adapter,
    bearer,
    load_json,
    record,
    response_named,
)
from site_builder.pull.gpu.sizes import storage_gb

API_URL = "https://cloud.lambda.ai/api/v1/instance-types"
SOLD_OUT_REGION = ("any", "Any region (sold out)")


class LambdaAdapter(Adapter):
    slug = "lambda"
    name = "Lambda"
    website = "https://lambda.ai"
    credential_env = ("LAMBDA_API_KEY",)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        response = await http.get(self.url(API_URL), headers=bearer(credentials, "LAMBDA_API_KEY"))
        return [record("instance-types", response)]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        response = response_named(responses, self.slug, "instance-types")
        payload = load_json(response, self.slug)
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            raise DataError(f"{self.slug}: instance-types has no 'data' object")
        offers: list[ParsedOffer] = []
        for type_name, entry in sorted(data.items()):
            try:
                instance = entry["instance_type"]
                cents = instance["price_cents_per_hour"]
                specs = instance["specs"]
                gpus = specs["gpus"]
                gpu_description = instance["gpu_description"]
                regions = entry["regions_with_capacity_available"]
            except (KeyError, TypeError) as exc:
                raise DataError(
                    f"{self.slug}: instance type {type_name!r} lacks field {exc}"
                ) from None
            if not isinstance(cents, int) or isinstance(cents, bool):
                raise DataError(
                    f"{self.slug}: {type_name}: price_cents_per_hour should be an integer,"
                    f" got {cents!r}"
                )
            if not gpus:
                continue  # CPU-only instance types are not GPU offers
            available_regions = [(r["name"], r.get("description", "")) for r in regions]
            common = {
                "provider": self.slug,
                "instance_type": instance.get("name", type_name),
                "raw_gpu_name": gpu_description,
                "gpu_count": int(gpus),
                "pricing_kind": "on_demand",
                "price": Decimal(cents) / 100,
                "price_basis": "instance",
                "currency": "USD",
                "raw_price": str(cents),
                "raw_unit": "USD cents / instance-hour",
                "observed_at": response.fetched_at,
                "vcpus": specs.get("vcpus"),
                "memory_gb": specs.get("memory_gib"),
                "storage_gb": storage_gb(specs.get("storage_gib"), "GiB"),
            }
            if not available_regions:
                code, region_name = SOLD_OUT_REGION
                offers.append(
                    ParsedOffer(
                        **common, region_code=code, region_name=region_name, available=False
                    )
                )
            for code, region_name in available_regions:
                offers.append(
                    ParsedOffer(**common, region_code=code, region_name=region_name, available=True)
                )
        return offers
