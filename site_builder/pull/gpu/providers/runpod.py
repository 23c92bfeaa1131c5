"""RunPod GPU pods: secure and community cloud, on-demand, spot and committed prices.

Sources (checked 2026-12-04):
- RunPod GraphQL ``gpuTypes`` fields, as typed by the ``runpod-sdk`` crate
  (https://docs.rs/runpod-sdk, ``model::GpuInfo``): ``secure_price`` / ``community_price``
  "hourly price per GPU", ``secure_spot_price`` / ``community_spot_price`` spot per GPU
  hour, ``one_month_price`` / ``three_month_price`` (also ``one_week_price``,
  ``six_month_price``) committed rates per GPU.
- gpuhunt ``src/gpuhunt/providers/runpod.py`` (github dstackai/gpuhunt, 3584151): per-GPU
  ``securePrice`` / ``communityPrice`` x GPU count, ``lowestPrice.stockStatus`` null =
  out of stock, anonymous queries, the ``id`` as the GPU name.
- SkyPilot ``sky/catalog/data_fetchers/fetch_runpod.py``: the same price fields.

API quirks, from the RunPod docs and SDK and gpuhunt:
- One GraphQL ``POST https://api.runpod.io/graphql``; the key goes in ``?api_key=``.
  gpuhunt queried anonymously, so ``RUNPOD_API_KEY`` is used when set and not required.
- ``gpuTypes`` lists one object per GPU type. Prices are float **USD per GPU-hour**:
  ``securePrice`` / ``communityPrice`` on demand, ``secureSpotPrice`` /
  ``communitySpotPrice`` interruptible, ``oneMonthPrice`` / ``threeMonthPrice`` committed
  (secure cloud). A null or zero price means "not offered in that cloud".
- ``displayName`` is the short name ("H100 SXM"); ``id`` is the nvidia-smi name
  ("NVIDIA H100 80GB HBM3"), which is what we map, since display names have drifted.
- No per-region prices: secure cloud runs in RunPod's own data centres, community cloud on
  hosts in many countries. We keep the two clouds as two pseudo-regions.
- Availability: ``lowestPrice.stockStatus`` is High, Medium, Low or null (null = out of
  stock); it describes the secure cloud at one GPU.
- No paging; the whole list is one response. Rate limits are generous for one query.
- Unverified: the terms behind ``oneMonthPrice`` / ``threeMonthPrice`` (we read them as
  1- and 3-month commitments, secure cloud); the spot fields' exact meaning per cloud.
  gpuhunt queries ``lowestPrice`` per data centre and GPU count; we keep one price per
  cloud and say so (no per-data-centre prices).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import urlencode

from site_builder.errors import DataError
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

API_URL = "https://api.runpod.io/graphql"
QUERY = """query GpuTypes {
  gpuTypes {
    id displayName manufacturer memoryInGb maxGpuCount
    securePrice communityPrice secureSpotPrice communitySpotPrice
    oneMonthPrice threeMonthPrice
    lowestPrice(input: {gpuCount: 1}) { uninterruptablePrice minimumBidPrice stockStatus }
  }
}"""
CLOUDS = {
    "secure": ("secure-cloud", "Secure cloud (RunPod data centres)"),
    "community": ("community-cloud", "Community cloud (vetted hosts)"),
}
# (field, cloud, kind, reserved term)
PRICE_FIELDS: tuple[tuple[str, str, PricingKind, str], ...] = (
    ("securePrice", "secure", "on_demand", ""),
    ("communityPrice", "community", "on_demand", ""),
    ("secureSpotPrice", "secure", "spot", ""),
    ("communitySpotPrice", "community", "spot", ""),
    ("oneMonthPrice", "secure", "reserved", "1mo"),
    ("threeMonthPrice", "secure", "reserved", "3mo"),
)


class RunPodAdapter(Adapter):
    slug = "runpod"
    name = "RunPod"
    website = "https://www.runpod.io"
    optional_env = ("RUNPOD_API_KEY",)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        url = self.url(API_URL)
        if key := credentials.get("RUNPOD_API_KEY"):
            url = f"{url}?{urlencode({'api_key': key})}"
        response = await http.post(url, json={"query": QUERY})
        kept = record("gpu-types", response)
        # Never archive the key: the URL is stored with the raw response.
        return [replace(kept, url=self.url(API_URL))]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        response = response_named(responses, self.slug, "gpu-types")
        payload = load_json(response, self.slug)
        if isinstance(payload, dict) and payload.get("errors"):
            message = field(payload, "errors", 0, "message", provider=self.slug, where="errors")
            raise DataError(f"{self.slug}: GraphQL error: {message}")
        gpu_types = field(payload, "data", "gpuTypes", provider=self.slug, where="the response")
        if not isinstance(gpu_types, list):
            raise DataError(f"{self.slug}: data.gpuTypes is not a list")
        offers = []
        for gpu in gpu_types:
            gpu_id = field(gpu, "id", provider=self.slug, where="a GPU type")
            where = f"GPU type {gpu_id!r}"
            if gpu_id == "unknown":
                continue  # RunPod's placeholder type, never rentable
            lowest = gpu.get("lowestPrice") or {}
            stock = lowest.get("stockStatus")
            for price_field, cloud, kind, term in PRICE_FIELDS:
                value = field(gpu, price_field, provider=self.slug, where=where)
                if value is None or value == 0:
                    continue
                price = money(value, provider=self.slug, where=f"{where} {price_field}")
                region_code, region_name = CLOUDS[cloud]
                offers.append(
                    ParsedOffer(
                        provider=self.slug,
                        instance_type=f"{gpu_id} ({cloud})",
                        raw_gpu_name=gpu_id,
                        gpu_count=1,
                        region_code=region_code,
                        region_name=region_name,
                        pricing_kind=kind,
                        reserved_term=term,
                        price=price,
                        price_basis="gpu",
                        currency="USD",
                        raw_price=str(value),
                        raw_unit="USD / GPU-hour",
                        observed_at=response.fetched_at,
                        available=(stock is not None) if cloud == "secure" else None,
                        details={
                            "display_name": gpu.get("displayName"),
                            "max_gpu_count": gpu.get("maxGpuCount"),
                            "stock_status": stock if cloud == "secure" else None,
                            "min_bid": str(lowest["minimumBidPrice"])
                            if kind == "spot" and lowest.get("minimumBidPrice")
                            else None,
                        },
                    )
                )
        return offers
