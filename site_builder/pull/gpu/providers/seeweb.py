"""Seeweb Cloud Server GPU (Italy).

Evidence (checked 2026-12-04): gpuhunt ``src/gpuhunt/providers/seeweb.py`` and the fixture
in ``src/tests/providers/test_seeweb.py`` ("mirrors the live /plans shape"), dstackai/
gpuhunt at 3584151; a public pydantic model of the same answer (``Plan``: ``hourly_price``,
``montly_price`` [sic], ``gpu``, ``gpu_label``, ``available_regions``).

- ``GET https://api.seeweb.it/ecs/v2/plans``, header ``X-APITOKEN: <SEEWEB_API_TOKEN>``
  (required). No paging.
- ``plans[]``: ``name`` ("ECS1GPU7"), ``cpu``, ``ram`` (MB), ``disk`` (GB) and ``gpu`` (counts as
  **strings**: "8", "32768", "1"), ``gpu_label`` ("L40s 48GB", "A100 80GB", "RTX A6000
  48GB", null on CPU plans), ``hourly_price`` (a float), ``available`` (the plan is
  active; not capacity), ``available_regions[]`` (``location``: "it-fr2").
- Skipped: CPU plans (``gpu`` "0" or no label) and inactive plans. A region listed twice
  counts once.

Thin evidence: the currency. Seeweb's public price list is in euros and neither gpuhunt
nor the API fields name a currency; we read ``hourly_price`` as EUR (converted with the
ECB rates).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

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
from site_builder.pull.gpu.sizes import storage_gb

API_URL = "https://api.seeweb.it/ecs/v2/plans"
REGIONS = {"it-fr2": "Frosinone, IT", "it-mi2": "Milan, IT", "ch-lug1": "Lugano, CH"}


def _count(value: object, *, where: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*", str(value))
    if match is None:
        raise DataError(f"seeweb: {where}: {value!r} is not a whole number")
    return int(match.group(1))


class SeewebAdapter(Adapter):
    slug = "seeweb"
    name = "Seeweb"
    website = "https://www.seeweb.it"
    credential_env = ("SEEWEB_API_TOKEN",)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        response = await http.get(
            self.url(API_URL), headers={"X-APITOKEN": credentials.get("SEEWEB_API_TOKEN", "")}
        )
        return [record("plans", response)]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        response = response_named(responses, self.slug, "plans")
        plans = field(load_json(response, self.slug), "plans", provider=self.slug, where="plans")
        offers: list[ParsedOffer] = []
        for plan in plans:
            where = f"plan {plan.get('name')!r}"
            label = plan.get("gpu_label")
            if not label or plan.get("available") is False:
                continue
            count = _count(field(plan, "gpu", provider=self.slug, where=where), where=where)
            if count < 1:
                continue
            raw = field(plan, "hourly_price", provider=self.slug, where=where)
            seen: set[str] = set()
            for region in field(plan, "available_regions", provider=self.slug, where=where):
                code = str(field(region, "location", provider=self.slug, where=where)).strip()
                if not code or code in seen:
                    continue
                seen.add(code)
                offers.append(
                    ParsedOffer(
                        provider=self.slug,
                        instance_type=str(plan["name"]),
                        raw_gpu_name=" ".join(str(label).split()),
                        gpu_count=count,
                        region_code=code,
                        region_name=REGIONS.get(code, code),
                        region_country=code[:2].upper(),
                        pricing_kind="on_demand",
                        price=money(raw, provider=self.slug, where=where),
                        price_basis="instance",
                        currency="EUR",
                        raw_price=str(raw),
                        raw_unit="EUR / instance-hour",
                        observed_at=response.fetched_at,
                        vcpus=_count(plan.get("cpu", 0), where=where),
                        memory_gb=_count(plan.get("ram", 0), where=where) / 1024,
                        storage_gb=storage_gb(plan.get("disk"), "GB"),
                    )
                )
        return offers
