"""Azure virtual machines with GPUs, from the public Retail Prices API.

Sources (checked 2026-12-04):
- Azure Retail Prices overview (paging, ``NextPageLink``, ``api-version=2023-01-01-preview``,
  primary meters, case-sensitive filter values):
  https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices
- gpuhunt ``src/gpuhunt/providers/azure.py`` (github dstackai/gpuhunt, 3584151): filters
  built from ``eq`` and ``contains(…) eq false`` (answered by the live API every hour),
  VM-series regexes per GPU.
- Filters that are *not* accepted: ``not(contains(…))`` answers 400
  (github ahmadabdalla/azure-cost-calculator#894), ``indexof`` answers 400
  (github microsoft/CloudAdoptionFramework#61); we found no evidence for ``startswith``, so
  it is not used.
- ``isPrimaryMeterRegion`` on items: the overview above (the preview version returns
  primary and non-primary meters) and clients that keep only primary meters (e.g. the
  azure-cost-calculator scripts).
- Reservation rows price the whole term: github Azure/azure-cli#22903 shows an E64 v4
  ``Reservation`` row, ``reservationTerm`` "3 Years", ``unitOfMeasure`` "1 Hour",
  ``retailPrice`` 48318.0 (an hourly reading would be absurd); clients amortize it.
- MI300X size ``Standard_ND96isr_MI300X_v5``:
  https://learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/nd-mi300x-v5-series

API quirks:
- ``GET https://prices.azure.com/api/retail/prices`` with an OData ``$filter`` of ``eq``
  and ``contains``; no credentials. Pages hold up to 1,000 ``Items``; ``NextPageLink``
  points at the next page and is null on the last. We apply the link's query to our own
  endpoint and never follow a link to another host.
- Items whose ``isPrimaryMeterRegion`` is false repeat a meter of another region
  (duplicates); they are dropped. An item without the field (older API versions) is kept.
- Prices are float USD per **instance**-hour (``unitOfMeasure`` "1 Hour") for ``type``
  "Consumption"; ``type`` "Reservation" rows carry ``reservationTerm`` ("1 Year",
  "3 Years") and price the **whole term**, so we divide by its hours. Other types
  ("DevTestConsumption") are not public list prices and are dropped.
- Spot prices are separate rows of the same ``armSkuName`` with "Spot" in ``meterName``;
  "Low Priority" rows (a retired spot form), Windows (" Windows" or " Win" in
  ``productName``), "Cloud Services" and "Dedicated" host rows are dropped, as are zero
  prices.
- The GPU model and count are not in the API: they come from the SKU table below. The
  NVadsA10_v5 sizes below NV36ads are **fractions** of an A10 and are not GPU offers here.
  An N-series SKU missing from the table is passed on with its SKU name as the GPU name,
  so it lands in quarantine as unknown and the run report names it.
- Unverified: whether ``contains`` is formally documented for this API (the docs examples
  use ``eq``; the filter works in gpuhunt's hourly runs); that every reservation row's
  ``unitOfMeasure`` stays "1 Hour" while pricing the term. No availability data. Rate
  limit: 429s happen on bursts; the client honours Retry-After.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, PricingKind, RawResponse
from site_builder.pull.gpu.providers.base import Adapter, field, load_json, money, record

API_URL = "https://prices.azure.com/api/retail/prices"
API_VERSION = "2023-01-01-preview"
# Only the GPU series: N-series product names read "Virtual Machines N… Series".
FILTER = "serviceName eq 'Virtual Machines' and contains(productName, 'Virtual Machines N')"
MAX_PAGES = 200
HOURS_PER_YEAR = 8760
TERM_YEARS = {"1 Year": 1, "3 Years": 3}
TERM_SLUG = {"1 Year": "1y", "3 Years": "3y"}

# armSkuName -> (GPU name as the catalog knows it, GPU count)
SKU_GPUS: dict[str, tuple[str, int]] = {
    "Standard_ND96isr_H100_v5": ("H100 SXM", 8),
    "Standard_ND96isr_H200_v5": ("H200 SXM", 8),
    "Standard_NC40ads_H100_v5": ("H100 NVL", 1),
    "Standard_NC80adis_H100_v5": ("H100 NVL", 2),
    "Standard_NC24ads_A100_v4": ("A100 PCIe", 1),
    "Standard_NC48ads_A100_v4": ("A100 PCIe", 2),
    "Standard_NC96ads_A100_v4": ("A100 PCIe", 4),
    "Standard_ND96amsr_A100_v4": ("A100 SXM4 80GB", 8),
    "Standard_ND96asr_v4": ("A100 SXM4 40GB", 8),
    "Standard_ND96isr_MI300X_v5": ("MI300X", 8),
    "Standard_NC4as_T4_v3": ("T4", 1),
    "Standard_NC8as_T4_v3": ("T4", 1),
    "Standard_NC16as_T4_v3": ("T4", 1),
    "Standard_NC64as_T4_v3": ("T4", 4),
    "Standard_NC6s_v3": ("Tesla V100-PCIE-16GB", 1),
    "Standard_NC12s_v3": ("Tesla V100-PCIE-16GB", 2),
    "Standard_NC24s_v3": ("Tesla V100-PCIE-16GB", 4),
    "Standard_ND40rs_v2": ("V100 SXM2 32GB", 8),
    "Standard_NV36ads_A10_v5": ("A10", 1),
    "Standard_NV72ads_A10_v5": ("A10", 2),
}
FRACTIONAL = ("Standard_NV6ads_A10_v5", "Standard_NV12ads_A10_v5", "Standard_NV18ads_A10_v5")
DROPPED_PRODUCT_MARKS = (" Windows", " Win", "Cloud Services", "Dedicated")


class AzureAdapter(Adapter):
    slug = "azure"
    name = "Microsoft Azure"
    website = "https://azure.microsoft.com"

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        query = urlencode({"api-version": API_VERSION, "$filter": FILTER})
        responses = []
        for page in range(MAX_PAGES):
            response = await http.get(f"{self.url(API_URL)}?{query}")
            responses.append(record(f"prices-{page:03d}", response))
            next_link = load_json(responses[-1], self.slug).get("NextPageLink")
            if not next_link:
                return responses
            query = urlsplit(next_link).query
        raise DataError(f"{self.slug}: more than {MAX_PAGES} pages; refusing to go on")

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        pages = sorted((r for r in responses if r.name.startswith("prices-")), key=lambda r: r.name)
        if not pages:
            raise DataError(f"{self.slug}: no 'prices-*' response in the fetched data")
        offers = []
        for page in pages:
            payload = load_json(page, self.slug)
            items = field(payload, "Items", provider=self.slug, where=page.name)
            for item in items:
                offer = self._offer(item, page)
                if offer is not None:
                    offers.append(offer)
        return offers

    def _offer(self, item: dict[str, object], page: RawResponse) -> ParsedOffer | None:
        def get(name: str) -> object:
            return field(item, name, provider=self.slug, where=f"{page.name} item")

        sku, product, meter = str(get("armSkuName")), str(get("productName")), str(get("meterName"))
        price_type = str(get("type"))
        if any(mark in product for mark in DROPPED_PRODUCT_MARKS) or "Low Priority" in meter:
            return None
        if sku in FRACTIONAL or price_type not in ("Consumption", "Reservation"):
            return None
        if item.get("isPrimaryMeterRegion") is False:
            return None  # the same meter, repeated under another region: a duplicate
        raw = get("retailPrice")
        price = money(raw, provider=self.slug, where=f"{sku} in {get('armRegionName')}")
        if price == 0:
            return None
        kind: PricingKind = "on_demand"
        term = ""
        unit = "USD / instance-hour"
        if price_type == "Reservation":
            term_name = str(get("reservationTerm"))
            if term_name not in TERM_YEARS:
                return None
            kind, term = "reserved", TERM_SLUG[term_name]
            price = price / (HOURS_PER_YEAR * TERM_YEARS[term_name])
            unit = f"USD / instance for {term_name}"
        elif "Spot" in meter:
            kind = "spot"
        gpu_name, count = SKU_GPUS.get(sku, (sku, 1))
        return ParsedOffer(
            provider=self.slug,
            instance_type=sku.removeprefix("Standard_"),
            raw_gpu_name=gpu_name,
            gpu_count=count,
            region_code=str(get("armRegionName")),
            region_name=str(get("location")),
            pricing_kind=kind,
            reserved_term=term,
            price=price,
            price_basis="instance",
            currency=str(get("currencyCode")),
            raw_price=str(raw),
            raw_unit=unit,
            observed_at=page.fetched_at,
            details={"meter": meter, "effective_from": item.get("effectiveStartDate")},
        )
