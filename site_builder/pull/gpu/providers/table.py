"""Dated, checked-in price tables kept by an editor (``data/gpu_prices/<slug>.toml``).

For providers whose prices are public only as a web page that we do not scrape (no price
API without an account, or a page built by scripts). An editor copies the page into the
table and sets ``as_of``; the provider is stored with ``pricing_source = "static"`` and its
pages say the prices come from a dated table and show that date (``details.as_of``).

Table layout (TOML)::

    as_of = 2026-11-20            # the day the editor read the page
    source_url = "https://..."    # the page read
    currency = "USD"              # or "EUR": converted with the ECB rates like any price

    [[offer]]
    instance_type = "h100-380"    # the provider's name for the configuration
    gpu = "H100"                  # the provider's GPU name (mapped by data/gpu_catalog.toml)
    gpus = 1
    price_per_gpu_hour = "2.99"   # or price_per_hour (the whole instance)
    spot_per_gpu_hour = "1.60"    # optional, or spot_per_hour
    regions = ["us-east1"]        # optional; default one pseudo-region "any"
    vcpus = 30                    # optional
    memory_gb = 380               # optional
    storage_gb = 1920             # optional: local disk in decimal GB, as the page states it
                                  # (a page's "1.92 TB" is 1920; its "1 TiB" is 1099.5)
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, PriceBasis, PricingKind, RawResponse
from site_builder.pull.gpu.providers.base import Adapter, field, money, response_named

ANY_REGION = ("any", "Any region (list price)")


class DatedTableAdapter(Adapter):
    """An adapter that reads its prices from a dated table instead of an API."""

    pricing_source = "static"
    table_name: str  # file name under data/gpu_prices/
    region_names: ClassVar[dict[str, str]] = {}
    region_countries: ClassVar[dict[str, str]] = {}

    def __init__(self, table: Path, base_url: str | None = None) -> None:
        super().__init__(base_url)
        self.table = table

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        try:
            body = self.table.read_text(encoding="utf-8")
        except OSError as exc:
            raise DataError(
                f"{self.slug}: cannot read the price table {self.table}: {exc}"
            ) from None
        return [
            RawResponse(
                name="price-table",
                url=self.table.as_posix(),
                status=200,
                content_type="application/toml",
                fetched_at=datetime.now(UTC),
                body=body,
            )
        ]

    def read_table(
        self, responses: list[RawResponse]
    ) -> tuple[RawResponse, dict[str, Any], str, dict[str, Any]]:
        """The table's response, its rows' parent, its currency and the details every offer
        carries (the ``as_of`` date the pages show, and the page the editor read)."""
        response = response_named(responses, self.slug, "price-table")
        try:
            table = tomllib.loads(response.body)
        except tomllib.TOMLDecodeError as exc:
            raise DataError(f"{self.slug}: the price table is not valid TOML: {exc}") from None
        as_of = field(table, "as_of", provider=self.slug, where="the price table")
        if not isinstance(as_of, date):
            raise DataError(f"{self.slug}: as_of should be a date, not {as_of!r}")
        details = {
            "as_of": as_of.isoformat(),
            "source": "static table",
            "source_url": table.get("source_url"),
        }
        return response, table, str(table.get("currency", "USD")), details

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        response, table, currency, details = self.read_table(responses)
        offers: list[ParsedOffer] = []
        rows = field(table, "offer", provider=self.slug, where="the price table")
        for index, row in enumerate(rows):
            where = f"offer #{index + 1}"
            for kind, basis, key in _prices(row):
                raw = row[key]
                for code in row.get("regions") or [ANY_REGION[0]]:
                    offers.append(
                        ParsedOffer(
                            provider=self.slug,
                            instance_type=str(
                                field(row, "instance_type", provider=self.slug, where=where)
                            ),
                            raw_gpu_name=str(field(row, "gpu", provider=self.slug, where=where)),
                            gpu_count=int(field(row, "gpus", provider=self.slug, where=where)),
                            region_code=code,
                            region_name=ANY_REGION[1]
                            if code == ANY_REGION[0]
                            else self.region_names.get(code, code),
                            region_country=self.region_countries.get(code),
                            pricing_kind=kind,
                            price=money(raw, provider=self.slug, where=where),
                            price_basis=basis,
                            currency=currency,
                            raw_price=str(raw),
                            raw_unit=f"{currency} / {'GPU' if basis == 'gpu' else 'instance'}"
                            "-hour (dated table)",
                            observed_at=response.fetched_at,
                            vcpus=row.get("vcpus"),
                            memory_gb=row.get("memory_gb"),
                            storage_gb=row.get("storage_gb"),
                            details=dict(details),
                        )
                    )
            if not _prices(row):
                raise DataError(f"{self.slug}: {where} has no price_per_gpu_hour or price_per_hour")
        return offers


def _prices(row: dict[str, Any]) -> list[tuple[PricingKind, PriceBasis, str]]:
    found: list[tuple[PricingKind, PriceBasis, str]] = []
    for kind, prefix in (("on_demand", "price"), ("spot", "spot")):
        for basis, suffix in (("gpu", "_per_gpu_hour"), ("instance", "_per_hour")):
            if prefix + suffix in row:
                found.append((kind, basis, prefix + suffix))  # type: ignore[arg-type]
                break
    return found
