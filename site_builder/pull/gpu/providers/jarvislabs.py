"""JarvisLabs GPU instances.

Evidence (checked 2026-12-04): gpuhunt ``src/gpuhunt/providers/jarvislabs.py`` and the
fixture ``SERVER_META_RESPONSE`` in ``src/tests/providers/test_jarvislabs.py``
(dstackai/gpuhunt at 3584151).

- ``GET https://backendn.jarvislabs.net/misc/server_meta``, Bearer ``JARVISLABS_API_KEY``
  (required). No paging.
- ``server_meta[]``: ``gpu_type`` ("L4", "A100-80GB", "RTX PRO 6000"), ``region``
  ("india-noida-01", "europe-01"), ``price_per_hour`` and ``spot_price`` (USD **per
  GPU**-hour; gpuhunt multiplies by the GPU count; ``spot_price`` may be null),
  ``num_free_devices``, ``num_gpus`` (the most GPUs per instance, **a string**), ``vram``
  (a string), ``cpus_per_gpu``, ``ram_per_gpu``, ``workload_type`` ("vm", "container" or
  null).
- Quirk: the same GPU and region appear once per workload type with the same prices; one
  offer per GPU x region, preferring the VM row (null counts as VM, as gpuhunt found).
- Availability: ``num_free_devices`` > 0. Spot rows are published as spot (gpuhunt leaves
  them out only because dstack cannot launch spot VMs there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
    response_named,
)

API_URL = "https://backendn.jarvislabs.net/misc/server_meta"


class JarvisLabsAdapter(Adapter):
    slug = "jarvislabs"
    name = "JarvisLabs"
    website = "https://jarvislabs.ai"
    credential_env = ("JARVISLABS_API_KEY",)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        response = await http.get(
            self.url(API_URL), headers=bearer(credentials, "JARVISLABS_API_KEY")
        )
        return [record("server-meta", response)]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        response = response_named(responses, self.slug, "server-meta")
        rows = field(
            load_json(response, self.slug), "server_meta", provider=self.slug, where="server-meta"
        )
        if not isinstance(rows, list):
            raise DataError(f"{self.slug}: server_meta should be a list")
        chosen: dict[tuple[str, str], dict[str, Any]] = {}
        for row in rows:
            key = (str(row.get("gpu_type")), str(row.get("region")))
            if key not in chosen or row.get("workload_type") in ("vm", None):
                chosen[key] = row
        offers: list[ParsedOffer] = []
        for (gpu_type, region), row in sorted(chosen.items()):
            where = f"{gpu_type} in {region}"
            kinds = [("on_demand", "price_per_hour")]
            if row.get("spot_price") is not None:
                kinds.append(("spot", "spot_price"))
            free = int(row.get("num_free_devices") or 0)
            for kind, key in kinds:
                raw = field(row, key, provider=self.slug, where=where)
                offers.append(
                    ParsedOffer(
                        provider=self.slug,
                        instance_type=f"{gpu_type} (per GPU, up to {row.get('num_gpus')})",
                        raw_gpu_name=gpu_type,
                        gpu_count=1,
                        region_code=region,
                        region_name=region,
                        region_country="IN" if region.startswith("india") else None,
                        pricing_kind=kind,  # type: ignore[arg-type]
                        price=money(raw, provider=self.slug, where=where),
                        price_basis="gpu",
                        currency="USD",
                        raw_price=str(raw),
                        raw_unit="USD / GPU-hour",
                        observed_at=response.fetched_at,
                        vcpus=row.get("cpus_per_gpu"),
                        memory_gb=row.get("ram_per_gpu"),
                        available=free > 0,
                        details={"max_gpus": str(row.get("num_gpus")), "free_gpus": free},
                    )
                )
        return offers
