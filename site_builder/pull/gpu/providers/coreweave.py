"""CoreWeave GPU instances, read from the public pricing page (no price API).

Page quirks (``https://www.coreweave.com/pricing``):
- Prices are an HTML table of instance configurations: "GPU Model", "GPU Count", "VRAM",
  "vCPUs", "System RAM", "Local Storage" and "Instance Price" ("$49.24/hr", USD per
  **instance**-hour, on demand). Rows whose price cell has no dollar amount ("Contact
  Sales") are skipped.
- Columns are found by header text; if the table is gone, the pull fails for this
  provider and its last prices stay (see ``providers/html.py``).
- No regions on the page (one list price across CoreWeave's US and EU data centres): the
  pseudo-region ``all``. No spot, no availability. Reserved capacity is "contact sales".
- Send a browser-like Accept header; the page is server-rendered.
"""

from __future__ import annotations

from collections.abc import Mapping

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, RawResponse
from site_builder.pull.gpu.providers.base import Adapter, record, response_named
from site_builder.pull.gpu.providers.html import dollars, table_rows

PAGE_URL = "https://www.coreweave.com/pricing"
COLUMNS = {
    "gpu": ("gpu model",),
    "count": ("gpu count",),
    "vcpus": ("vcpu",),
    "ram": ("system ram",),
    "price": ("instance price", "price"),
}


class CoreWeaveAdapter(Adapter):
    slug = "coreweave"
    name = "CoreWeave"
    website = "https://www.coreweave.com"
    pricing_source = "html"

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        response = await http.get(self.url(PAGE_URL), headers={"Accept": "text/html"})
        return [record("pricing-page", response)]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        page = response_named(responses, self.slug, "pricing-page")
        offers = []
        for row in table_rows(page.body, COLUMNS, provider=self.slug, page="the pricing page"):
            where = f"row {row['gpu']!r}"
            price = dollars(row["price"], provider=self.slug, where=where)
            if price is None:
                continue
            try:
                count = int(row["count"])
            except ValueError:
                raise DataError(f"{self.slug}: {where}: GPU count {row['count']!r}") from None
            offers.append(
                ParsedOffer(
                    provider=self.slug,
                    instance_type=f"{count}x {row['gpu']}",
                    raw_gpu_name=row["gpu"],
                    gpu_count=count,
                    region_code="all",
                    region_name="All CoreWeave regions (one list price)",
                    pricing_kind="on_demand",
                    price=price,
                    price_basis="instance",
                    currency="USD",
                    raw_price=row["price"],
                    raw_unit="USD / instance-hour (pricing page)",
                    observed_at=page.fetched_at,
                    vcpus=int(row["vcpus"]) if row["vcpus"].isdigit() else None,
                    memory_gb=float(row["ram"].split()[0]) if row["ram"][:1].isdigit() else None,
                )
            )
        return offers
