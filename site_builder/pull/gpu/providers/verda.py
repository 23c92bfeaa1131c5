"""Verda (formerly DataCrunch) GPU instances: on-demand and spot, per location.

Sources (checked 2026-12-04):
- Verda (DataCrunch) public API reference: https://api.datacrunch.io/v1/docs (OAuth2 client
  credentials, ``/instance-types``, ``/locations``, ``/instance-availability``); the SDK
  github verda-cloud/sdk-python reads ``price_per_hour`` (snake_case) from
  ``/instance-types`` (its PR #13).
- gpuhunt ``src/gpuhunt/providers/verda.py`` (github dstackai/gpuhunt, 3584151): prices as
  strings per instance (``price_per_hour``, spot ``spot_price``), one offer per location
  and kind.
- SkyPilot ``sky/catalog/data_fetchers/fetch_verda.py``.

API quirks, from the Verda/DataCrunch docs and gpuhunt:
- ``https://api.datacrunch.io/v1``. OAuth2 client credentials: ``POST /oauth2/token`` with
  ``{"grant_type": "client_credentials", "client_id", "client_secret"}`` (from
  ``VERDA_CLIENT_ID`` / ``VERDA_CLIENT_SECRET``) returns ``access_token`` for a Bearer
  header. The token exchange is never archived.
- ``GET /instance-types``: prices are **strings**, per **instance**-hour
  (``price_per_hour``, ``spot_price``) in ``currency`` ("usd"; "eur" accounts exist and
  are converted with the ECB rate). ``gpu.number_of_gpus`` is the count; CPU-only types
  have 0 and are skipped. ``name`` ("H100 SXM5 80GB") is the GPU name we map.
- One price for every location. ``GET /locations`` names them (``code``, ``name``,
  ``country_code``); ``GET /instance-availability`` (and ``?is_spot=true``) lists, per
  location, the instance types that can be launched now: our ``available`` flag.
- No paging.
- Unverified: the new verda.com API host (we keep api.datacrunch.io, which answers).
"""

from __future__ import annotations

from collections.abc import Mapping

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

API_URL = "https://api.datacrunch.io/v1"


class VerdaAdapter(Adapter):
    slug = "verda"
    name = "Verda (DataCrunch)"
    website = "https://verda.com"
    credential_env = ("VERDA_CLIENT_ID", "VERDA_CLIENT_SECRET")

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        token_response = await http.post(
            self.url(f"{API_URL}/oauth2/token"),
            json={
                "grant_type": "client_credentials",
                "client_id": credentials["VERDA_CLIENT_ID"],
                "client_secret": credentials["VERDA_CLIENT_SECRET"],
            },
        )
        try:
            token = token_response.json()["access_token"]
        except ValueError:
            raise DataError(f"{self.slug}: the token response is not valid JSON") from None
        except (KeyError, TypeError):
            raise DataError(f"{self.slug}: the token response holds no access_token") from None
        headers = {"Authorization": f"Bearer {token}"}
        responses = []
        for name, path in (
            ("instance-types", "/instance-types"),
            ("locations", "/locations"),
            ("availability", "/instance-availability"),
            ("availability-spot", "/instance-availability?is_spot=true"),
        ):
            responses.append(
                record(name, await http.get(self.url(API_URL + path), headers=headers))
            )
        return responses

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        types_response = response_named(responses, self.slug, "instance-types")
        types = load_json(types_response, self.slug)
        locations = load_json(response_named(responses, self.slug, "locations"), self.slug)
        available = {
            kind: self._availability(response_named(responses, self.slug, name))
            for kind, name in (("on_demand", "availability"), ("spot", "availability-spot"))
        }
        if not isinstance(types, list) or not isinstance(locations, list):
            raise DataError(f"{self.slug}: instance-types and locations should be lists")
        offers = []
        for item in types:
            instance = field(item, "instance_type", provider=self.slug, where="an instance type")
            where = f"instance type {instance!r}"
            gpus = field(item, "gpu", "number_of_gpus", provider=self.slug, where=where)
            if not gpus:
                continue
            currency = str(field(item, "currency", provider=self.slug, where=where)).upper()
            prices: list[tuple[PricingKind, object]] = [
                ("on_demand", field(item, "price_per_hour", provider=self.slug, where=where))
            ]
            if item.get("spot_price") not in (None, "", "0", "0.0"):
                prices.append(("spot", item["spot_price"]))
            for location in locations:
                code = field(location, "code", provider=self.slug, where="a location")
                for kind, raw in prices:
                    offers.append(
                        ParsedOffer(
                            provider=self.slug,
                            instance_type=instance,
                            raw_gpu_name=field(item, "name", provider=self.slug, where=where),
                            gpu_count=int(gpus),
                            region_code=code,
                            region_name=location.get("name") or code,
                            region_country=location.get("country_code"),
                            pricing_kind=kind,
                            price=money(raw, provider=self.slug, where=f"{where} {kind}"),
                            price_basis="instance",
                            currency=currency,
                            raw_price=str(raw),
                            raw_unit=f"{currency} / instance-hour",
                            observed_at=types_response.fetched_at,
                            vcpus=(item.get("cpu") or {}).get("number_of_cores"),
                            memory_gb=(item.get("memory") or {}).get("size_in_gigabytes"),
                            available=instance in available[kind].get(code, set()),
                        )
                    )
        return offers

    def _availability(self, response: RawResponse) -> dict[str, set[str]]:
        entries = load_json(response, self.slug)
        if not isinstance(entries, list):
            raise DataError(f"{self.slug}: {response.name} should be a list")
        return {
            field(e, "location_code", provider=self.slug, where=response.name): set(
                field(e, "availabilities", provider=self.slug, where=response.name)
            )
            for e in entries
        }
