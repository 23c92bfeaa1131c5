"""Scaleway GPU Instances.

Evidence (checked 2026-12-04): Scaleway Instance API, "List Instance types"
(https://www.scaleway.com/en/developers/api/instances/, ``GET /instance/v1/zones/{zone}/
products/servers``; the SDK call ``InstanceV1API.list_servers_types(zone, per_page=100)``
used by SkyPilot's ``sky/catalog/data_fetchers/fetch_scaleway.py``, which iterates every
zone and keeps types with ``gpu``); a public TypeScript loader of the same endpoint
(fields ``ncpus``, ``ram`` in bytes, ``hourly_price``, ``gpu``).

- ``GET https://api.scaleway.com/instance/v1/zones/{zone}/products/servers?per_page=100
  &page=N`` per GPU zone (fr-par-1, fr-par-2, nl-ams-1, pl-waw-2), header ``X-Auth-Token``
  with ``SCW_SECRET_KEY`` (required). Paging: ``page`` until a page brings fewer than
  ``per_page`` types.
- ``servers`` is an **object keyed by type name** ("H100-1-80G", "L4-1-24G"), each with
  ``hourly_price`` (a float in **EUR** per instance-hour: Scaleway bills in euros),
  ``ncpus``, ``ram`` (bytes) and ``gpu`` (count; 0 or absent on CPU types).
- The GPU model is read from the type name: ``<model>-<count>-<memory>G`` ("H100-SXM-8-80G"
  -> "H100-SXM 80G"); names outside that pattern (e.g. "RENDER-S") are named as they are,
  so an unknown one is held back as an unknown GPU rather than guessed.

Unverified: a ``gpu_info`` object some SDK versions expose (we do not rely on it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, RawResponse
from site_builder.pull.gpu.providers.base import Adapter, field, load_json, money, record

API = "https://api.scaleway.com/instance/v1/zones/{zone}/products/servers"
ZONES = {
    "fr-par-1": ("Paris 1", "FR"),
    "fr-par-2": ("Paris 2", "FR"),
    "nl-ams-1": ("Amsterdam 1", "NL"),
    "pl-waw-2": ("Warsaw 2", "PL"),
}
PER_PAGE = 100
MAX_PAGES = 5
TYPE_NAME = re.compile(r"^(?P<model>.+?)-(?P<count>\d+)-(?P<memory>\d+)G$")


class ScalewayAdapter(Adapter):
    slug = "scaleway"
    name = "Scaleway"
    website = "https://www.scaleway.com"
    credential_env = ("SCW_SECRET_KEY",)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        responses: list[RawResponse] = []
        headers = {"X-Auth-Token": credentials.get("SCW_SECRET_KEY", "")}
        for zone in ZONES:
            for page in range(1, MAX_PAGES + 1):
                url = API.format(zone=zone) + f"?per_page={PER_PAGE}&page={page}"
                response = await http.get(self.url(url), headers=headers)
                responses.append(record(f"{zone}/{page}", response))
                body = response.json() if response.status_code == 200 else {}
                if len(body.get("servers") or {}) < PER_PAGE:
                    break
        return responses

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        offers: list[ParsedOffer] = []
        for response in responses:
            zone = response.name.split("/")[0]
            if zone not in ZONES:
                raise DataError(f"{self.slug}: a response for an unknown zone {zone!r}")
            servers = field(
                load_json(response, self.slug), "servers", provider=self.slug, where=response.name
            )
            if not isinstance(servers, dict):
                raise DataError(f"{self.slug}: {response.name}: 'servers' is not an object")
            for type_name, server in sorted(servers.items()):
                count = int(server.get("gpu") or 0)
                if count < 1:
                    continue
                where = f"{zone} type {type_name!r}"
                raw = field(server, "hourly_price", provider=self.slug, where=where)
                match = TYPE_NAME.match(type_name)
                gpu_name = f"{match['model']} {match['memory']}G" if match else type_name
                offers.append(
                    ParsedOffer(
                        provider=self.slug,
                        instance_type=type_name,
                        raw_gpu_name=gpu_name,
                        gpu_count=count,
                        region_code=zone,
                        region_name=ZONES[zone][0],
                        region_country=ZONES[zone][1],
                        pricing_kind="on_demand",
                        price=money(raw, provider=self.slug, where=where),
                        price_basis="instance",
                        currency="EUR",
                        raw_price=str(raw),
                        raw_unit="EUR / instance-hour",
                        observed_at=response.fetched_at,
                        vcpus=server.get("ncpus"),
                        memory_gb=float(Decimal(str(server.get("ram", 0))) / 1024**3) or None,
                    )
                )
        return offers
