"""Nebius AI Cloud, from a dated, checked-in price table (``data/gpu_prices/nebius.toml``).

Sources (checked 2026-12-04):
- https://nebius.com/prices (the editor's source for the table, with its ``as_of`` date).
- Nebius SDK ``CalculatorService.estimate`` (needs a service account): gpuhunt
  ``src/gpuhunt/providers/nebius.py``; SkyPilot ``sky/catalog/data_fetchers/fetch_nebius.py``.

Why a table: Nebius's only machine-readable prices come from its gRPC SDK
(``CalculatorService.estimate`` on a platform + preset, after tenants -> project per region
-> ``PlatformService.list``), which needs a service account. Without one, an editor keeps
the public price page in the table and sets ``as_of``; the pages say the prices come from
a dated table and show that date (``details.as_of``), and the provider is stored with
``pricing_source = "static"``.

Quirks kept in the table: prices are per **GPU**-hour with the preset's vCPUs and RAM
included; platforms (``gpu-h100-sxm``, ``gpu-h200-sxm``, ``gpu-b200-sxm``, ``gpu-l40s-a``)
are what we map to GPU models; presets look like ``8gpu-128vcpu-1600gb``; preemptible
prices, where listed, are published as spot. No availability data.
Unverified: prices between the editor's checks (the pages show the table's date).
"""

from __future__ import annotations

from site_builder.pull.gpu.offer import ParsedOffer, PricingKind, RawResponse
from site_builder.pull.gpu.providers.base import field, money
from site_builder.pull.gpu.providers.table import DatedTableAdapter

REGION_COUNTRIES = {
    "eu-north1": "FI",
    "eu-north2": "IS",
    "eu-west1": "FR",
    "us-central1": "US",
    "me-west1": "IL",
    "uk-south1": "GB",
}


class NebiusAdapter(DatedTableAdapter):
    """Reads the table like any dated table; its rows name a platform and a preset."""

    slug = "nebius"
    name = "Nebius"
    website = "https://nebius.com"
    table_name = "nebius.toml"

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        response, table, currency, details = self.read_table(responses)
        offers = []
        for index, row in enumerate(field(table, "offer", provider=self.slug, where="the table")):
            where = f"offer #{index + 1}"
            platform = field(row, "platform", provider=self.slug, where=where)
            preset = field(row, "preset", provider=self.slug, where=where)
            kinds: list[tuple[PricingKind, str]] = [("on_demand", "price_per_gpu_hour")]
            if "preemptible_per_gpu_hour" in row:
                kinds.append(("spot", "preemptible_per_gpu_hour"))
            for region in field(row, "regions", provider=self.slug, where=where):
                for kind, key in kinds:
                    raw = field(row, key, provider=self.slug, where=where)
                    offers.append(
                        ParsedOffer(
                            provider=self.slug,
                            instance_type=f"{platform} {preset}",
                            raw_gpu_name=platform,
                            gpu_count=int(field(row, "gpus", provider=self.slug, where=where)),
                            region_code=region,
                            region_name=region,
                            region_country=REGION_COUNTRIES.get(region),
                            pricing_kind=kind,
                            price=money(raw, provider=self.slug, where=where),
                            price_basis="gpu",
                            currency=currency,
                            raw_price=str(raw),
                            raw_unit=f"{currency} / GPU-hour (dated table)",
                            observed_at=response.fetched_at,
                            vcpus=row.get("vcpus"),
                            memory_gb=row.get("memory_gb"),
                            details=dict(details),
                        )
                    )
        return offers
