"""Voltage Park H100 clusters, read from the public pricing page (no price API).

Page quirks (``https://www.voltagepark.com/pricing``):
- A table of offerings: "Offering", "GPU", "GPUs per node", "On-demand" and "Reserved"
  columns. Prices are USD per **GPU**-hour ("$1.99/GPU/hr"). "Reserved" is a committed
  term of at least one year (term stated in the column header when it is given).
- Cells without a dollar amount ("Contact us") are skipped. Columns are found by header
  text; a changed layout fails this provider, its last prices stay.
- Data centres are in the US only and share one price: the pseudo-region ``us``.
  "Available now" / "Waitlist" in an optional "Availability" column is our flag.
"""

from __future__ import annotations

from collections.abc import Mapping

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, PricingKind, RawResponse
from site_builder.pull.gpu.providers.base import Adapter, record, response_named
from site_builder.pull.gpu.providers.html import dollars, table_rows

PAGE_URL = "https://www.voltagepark.com/pricing"
COLUMNS = {
    "offering": ("offering",),
    "gpu": ("gpu",),
    "count": ("gpus per node",),
    "on_demand": ("on-demand", "on demand"),
    "reserved": ("reserved",),
    "availability": ("availability",),
}


class VoltageParkAdapter(Adapter):
    slug = "voltagepark"
    name = "Voltage Park"
    website = "https://www.voltagepark.com"
    pricing_source = "html"

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        response = await http.get(self.url(PAGE_URL), headers={"Accept": "text/html"})
        return [record("pricing-page", response)]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        page = response_named(responses, self.slug, "pricing-page")
        offers = []
        rows = table_rows(page.body, COLUMNS, provider=self.slug, page="the pricing page")
        for row in rows:
            where = f"row {row['offering']!r}"
            try:
                count = int(row["count"])
            except ValueError:
                raise DataError(f"{self.slug}: {where}: GPUs per node {row['count']!r}") from None
            availability = row["availability"].casefold()
            kinds: list[tuple[PricingKind, str, str]] = [
                ("on_demand", "on_demand", ""),
                ("reserved", "reserved", "1y"),
            ]
            for kind, column, term in kinds:
                price = dollars(row[column], provider=self.slug, where=where)
                if price is None:
                    continue
                offers.append(
                    ParsedOffer(
                        provider=self.slug,
                        instance_type=row["offering"],
                        raw_gpu_name=row["gpu"],
                        gpu_count=count,
                        region_code="us",
                        region_name="United States",
                        region_country="US",
                        pricing_kind=kind,
                        reserved_term=term,
                        price=price,
                        price_basis="gpu",
                        currency="USD",
                        raw_price=row[column],
                        raw_unit="USD / GPU-hour (pricing page)",
                        observed_at=page.fetched_at,
                        available=None
                        if not availability
                        else availability.startswith("available"),
                    )
                )
        return offers
