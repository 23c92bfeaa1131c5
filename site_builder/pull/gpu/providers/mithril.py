"""Mithril (formerly Foundry) spot GPU capacity, sold by auction.

Evidence (checked 2026-12-04): SkyPilot ``sky/catalog/data_fetchers/fetch_mithril.py``
(the catalog fetcher; its comments describe the answers) and Mithril's API docs
(https://docs.mithril.ai).

- ``GET https://api.mithril.ai/v2/instance-types`` and ``GET https://api.mithril.ai/v2/
  spot/availability``, Bearer ``MITHRIL_API_KEY`` (required). No paging.
- instance types: a list (or ``{"data": [...]}``) of ``fid`` ("it_XqgKWbhZ5gznAYsG"),
  ``name`` ("h100-80gb.sxm.8x"), ``gpu_type`` ("H100"), ``num_gpus``, ``gpu_memory_gb``,
  ``num_cpus``, ``ram_gb``.
- spot availability: records with ``instance_type`` (**the fid, not the name**),
  ``region`` and ``last_instance_price``, a **string with a dollar sign** ("$12.00"): the
  last clearing price of the auction, per instance-hour. A record whose fid names no
  instance type is an error in the answer; a type with no record has no price (skipped,
  as SkyPilot does).
- Everything is spot (interruptible); there is no on-demand price.

Unverified: whether ``last_instance_price`` is per instance or per GPU (SkyPilot uses it as
the instance price); the GPU name we map is ``gpu_type`` with the memory ("H100 80GB").
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

API = "https://api.mithril.ai/v2"


def _records(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, dict):
        document = document.get("data", document.get("instance_types"))
    if not isinstance(document, list):
        raise DataError("mithril: expected a list of records")
    return document


class MithrilAdapter(Adapter):
    slug = "mithril"
    name = "Mithril"
    website = "https://mithril.ai"
    credential_env = ("MITHRIL_API_KEY",)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        headers = bearer(credentials, "MITHRIL_API_KEY")
        types = await http.get(self.url(f"{API}/instance-types"), headers=headers)
        spot = await http.get(self.url(f"{API}/spot/availability"), headers=headers)
        return [record("instance-types", types), record("spot-availability", spot)]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        types_response = response_named(responses, self.slug, "instance-types")
        spot_response = response_named(responses, self.slug, "spot-availability")
        types = {
            str(field(t, "fid", provider=self.slug, where="an instance type")): t
            for t in _records(load_json(types_response, self.slug))
        }
        offers: list[ParsedOffer] = []
        for rec in _records(load_json(spot_response, self.slug)):
            fid = str(field(rec, "instance_type", provider=self.slug, where="a spot record"))
            kind = types.get(fid)
            if kind is None:
                raise DataError(f"{self.slug}: spot record for an unknown instance type {fid!r}")
            where = f"{kind.get('name')} in {rec.get('region')}"
            raw = str(field(rec, "last_instance_price", provider=self.slug, where=where))
            count = int(field(kind, "num_gpus", provider=self.slug, where=where))
            if count < 1:
                continue
            memory = kind.get("gpu_memory_gb")
            gpu = str(field(kind, "gpu_type", provider=self.slug, where=where))
            region = str(field(rec, "region", provider=self.slug, where=where))
            offers.append(
                ParsedOffer(
                    provider=self.slug,
                    instance_type=str(kind.get("name") or fid),
                    raw_gpu_name=f"{gpu} {memory}GB" if memory else gpu,
                    gpu_count=count,
                    region_code=region,
                    region_name=region,
                    pricing_kind="spot",
                    price=money(raw.strip().lstrip("$"), provider=self.slug, where=where),
                    price_basis="instance",
                    currency="USD",
                    raw_price=raw,
                    raw_unit="USD / instance-hour (last auction price)",
                    observed_at=spot_response.fetched_at,
                    vcpus=kind.get("num_cpus"),
                    memory_gb=kind.get("ram_gb"),
                    details={"auction": True},
                )
            )
        return offers
