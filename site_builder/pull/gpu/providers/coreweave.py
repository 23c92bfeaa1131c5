"""CoreWeave GPU instances, read from the public pricing page (no price API).

Sources (checked 2026-12-04):
- The page, https://www.coreweave.com/pricing: no ``<table>``; each GPU is a repeated
  ``div`` row (``div.table-row-v2`` … ``div.table-grid`` with ``div.table-v2-cell``
  cells, the model name in ``h3.table-model-name``), as read by the scraper
  github becloudready/gpu-price ``sources/coreweave.py`` (its saved output
  ``data/coreweave_prices.csv`` has an empty GPU count for "NVIDIA GB200 NVL72": the
  count cell carries a footnote mark).
- The page's current layout as reported in issue 28 (checked against the live page by
  the issue's author): on-demand **and** spot price cells per row, and separate "North
  America" and "Europe" sections; footnote marks on some GPU counts.
- Billing: "The GPU price per hour, as listed on the CoreWeave Cloud Pricing page,
  includes the host device vCPU, RAM and ephemeral storage allocations"
  https://docs.coreweave.com/resources/billing-and-charges ; spot and on-demand are
  distinct capacity plans: https://docs.coreweave.com/platform/capacity-plans

Page quirks:
- Rows are ``div`` elements whose class contains ``table-row``; a row's cells are its
  ``div`` elements whose class contains ``table-v2-cell`` (or ``cell``). The first row of a
  grid holds the column labels ("GPU Model", "GPU Count", "vCPUs", "System RAM",
  "Local Storage (TB)", "On-Demand", "Spot"); columns are found by label, never by
  position. Storage is read only where its label names the unit (TB, decimal).
- Prices are USD per **instance**-hour ("$49.24"). "Contact Sales" in a price cell is a
  **price on request** (stored as such, never as a number); an empty spot cell or "—" is
  no spot offer.
- GPU counts may carry a footnote (``<sup>1</sup>``, "*"); the mark is dropped.
- A row belongs to the region of the nearest heading before it that names one
  ("North America", "Europe"); rows before any such heading go to the pseudo-region
  ``all``. No availability. Reserved capacity is "contact sales" and not listed.
- If no priced grid is found the pull fails for this provider and its last prices stay.
- Unverified: the exact class names of the spot column and of the region headings on
  today's page (the issue describes them; no saved copy of the new page is public). The
  parser relies on label text, not on those class names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lxml.html

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, PricingKind, RawResponse
from site_builder.pull.gpu.providers.base import Adapter, record, response_named
from site_builder.pull.gpu.providers.html import (
    _FOOTNOTE_MARKS,
    cell_text,
    count_of,
    dollars,
    parse_document,
)
from site_builder.pull.gpu.sizes import storage_gb

PAGE_URL = "https://www.coreweave.com/pricing"
COLUMNS = {
    "gpu": ("gpu model", "model", "instance"),
    "count": ("gpu count", "gpus"),
    "vcpus": ("vcpu",),
    "ram": ("system ram", "ram"),
    # the unit is in the label ("Local Storage (TB)"): a label without one is not read
    "storage_tb": ("local storage (tb)",),
    "storage_gb": ("local storage (gb)",),
    "on_demand": ("on-demand", "on demand", "instance price", "price"),
    "spot": ("spot",),
}
REQUIRED = ("gpu", "count", "on_demand")
REGIONS = {  # heading text -> (code, name, country)
    "north america": ("na", "North America", None),
    "europe": ("eu", "Europe", None),
}
ALL_REGIONS = ("all", "All CoreWeave regions", None)
ROWS = "//div[contains(@class, 'table-row')]"
CELLS = (
    "./descendant::div[contains(@class, 'cell')][not(descendant::div[contains(@class, 'cell')])]"
)
HEADINGS = (
    "preceding::*[self::h1 or self::h2 or self::h3 or self::h4]"
    "[not(contains(@class, 'table-model-name'))]"
)


def _region(row: lxml.html.HtmlElement) -> tuple[str, str, str | None]:
    for heading in reversed(row.xpath(HEADINGS)):
        text = cell_text(heading).casefold()
        for name, region in REGIONS.items():
            if name in text:
                return region
    return ALL_REGIONS


def _columns(labels: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for name, prefixes in COLUMNS.items():
        for index, label in enumerate(labels):
            if index not in positions.values() and any(
                label.casefold().startswith(p) for p in prefixes
            ):
                positions[name] = index
                break
    return positions


def _storage(cells: list[str], positions: dict[str, int]) -> Any:
    """The "Local Storage" cell in decimal GB, in the unit its column label names (the
    page writes TB: 61.44 TB = 61,440 GB); None when there is no such column or cell."""
    for column, unit in (("storage_tb", "TB"), ("storage_gb", "GB")):
        if column in positions:
            text = cells[positions[column]].rstrip(_FOOTNOTE_MARKS).strip()
            return storage_gb(text, unit) if text not in ("", "-", "—") else None
    return None


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
        document = parse_document(page.body, provider=self.slug, page="the pricing page")
        offers: list[ParsedOffer] = []
        positions: dict[str, int] = {}
        for row in document.xpath(ROWS):
            cells = [cell_text(c) for c in row.xpath(CELLS)]
            labels = _columns(cells)
            if all(name in labels for name in REQUIRED) and not any("$" in c for c in cells):
                positions = labels  # a header row: the columns of the rows below it
                continue
            if not positions or len(cells) <= max(positions.values()):
                continue
            offers.extend(self._row(cells, positions, _region(row), page))
        if not positions:
            raise DataError(
                f"{self.slug}: the pricing page has no GPU price grid with columns"
                " 'GPU Model', 'GPU Count' and 'On-Demand'; the page layout changed"
            )
        return offers

    def _row(
        self,
        cells: list[str],
        positions: dict[str, int],
        region: tuple[str, str, str | None],
        page: RawResponse,
    ) -> list[ParsedOffer]:
        gpu = cells[positions["gpu"]]
        count = count_of(cells[positions["count"]])
        if not gpu or count is None:
            raise DataError(f"{self.slug}: row {gpu!r}: GPU count {cells[positions['count']]!r}")
        vcpus = count_of(cells[positions["vcpus"]]) if "vcpus" in positions else None
        ram = count_of(cells[positions["ram"]]) if "ram" in positions else None
        storage = _storage(cells, positions)
        offers = []
        kinds: list[tuple[PricingKind, str]] = [("on_demand", "on_demand"), ("spot", "spot")]
        for kind, column in kinds:
            if column not in positions:
                continue
            text = cells[positions[column]]
            price = dollars(text, provider=self.slug, where=f"row {gpu!r}")
            on_request = price is None and "contact" in text.casefold()
            if price is None and not on_request:
                continue  # "—" or empty: not offered as this kind
            offers.append(
                ParsedOffer(
                    provider=self.slug,
                    instance_type=f"{count}x {gpu}",
                    raw_gpu_name=gpu,
                    gpu_count=count,
                    region_code=region[0],
                    region_name=region[1],
                    region_country=region[2],
                    pricing_kind=kind,
                    price=price,
                    price_on_request=on_request,
                    price_basis="instance",
                    currency="USD",
                    raw_price=text,
                    raw_unit="USD / instance-hour (pricing page)",
                    observed_at=page.fetched_at,
                    vcpus=vcpus,
                    memory_gb=float(ram) if ram is not None else None,
                    storage_gb=storage,
                )
            )
        return offers
