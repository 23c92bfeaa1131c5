"""Amazon EC2 GPU instances: on-demand and reserved from the public Price List, spot from the
EC2 console's public (undocumented) spot feed.

Sources (checked 2026-12-04):
- AWS Price List Bulk API, offer index and per-region offer files:
  https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/using-the-aws-price-list-bulk-api.html
- gpuhunt ``src/gpuhunt/providers/aws.py`` (github dstackai/gpuhunt, 3584151): the CSV
  skips five disclaimer lines and keeps OnDemand, Shared, Linux, Used, Hrs, USD, NA
  pre-installed software and ``MarketOption`` "OnDemand" (the price list also carries
  "CapacityBlock" rows: EC2 Capacity Blocks for ML, bought ahead for fixed dates).
- ``MarketType`` values OnDemand / Spot / CapacityBlock: the EC2 API's
  ``InstanceMarketOptionsRequest`` (``CapacityBlock`` = pre-purchased capacity blocks).
- Spot: the documented source is ``DescribeSpotPriceHistory``, which needs credentials.
  The feed used here, ``https://website.spot.ec2.aws.a2z.com/spot.json`` (the one behind
  the "Spot Instance pricing" page), is **not documented** by AWS; its shape is read from
  the feed itself as described in the project's reference notes.

API quirks:
- No credentials. ``region_index.json`` under
  ``https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/`` lists each
  region's offer file; the CSV form of a region file is hundreds of MB, so it is
  **streamed** and only rows of the GPU families below are kept (and archived).
- The CSV opens with five disclaimer lines, then the header. Prices are **strings**, USD per
  instance-hour (``Unit`` "Hrs"). We keep Linux, shared tenancy, ``CapacityStatus`` "Used",
  no pre-installed software, ``MarketOption`` "OnDemand" (capacity-block rows are a
  different market, priced for a reserved window, not on demand); ``TermType`` OnDemand,
  and Reserved rows for standard "No Upfront" 1yr and 3yr terms (their hourly rate).
- ``vCPU``, ``Memory`` ("2048 GiB", kept in GiB) and, in the real files, ``Storage``: the
  instance store as "8 x 3840 NVMe SSD" (disks x GB; AWS's instance-store tables give GB)
  or "EBS only" (no local disk: not stated). A public collector's tests show the same
  column and forms (``"768 GiB", "2 x 3800 NVMe SSD"``); the fake's CSV has no such column,
  so storage is read only when it is present.
- The GPU model is not in the price list (only a count in the ``GPU`` column), so it comes
  from the family table below; p5 and p4d/p4de differ by memory, as the catalog does.
- Spot (``config.regions[].instanceTypes[].sizes[].valueColumns[name=linux].prices.USD``)
  is refreshed hourly, lacks some regions, and shows "N/A*" where a size has no spot
  market; those are skipped. GPU counts and sizes of spot offers come from the price list. Each
  spot offer says in ``details.source`` that it comes from the undocumented feed.
- Unverified: the spot feed's shape and stability (undocumented); whether reserved rows
  always carry ``MarketOption`` "OnDemand" (gpuhunt reads on-demand rows only). No
  availability data.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

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

PRICING_HOST = "https://pricing.us-east-1.amazonaws.com"
REGION_INDEX = f"{PRICING_HOST}/offers/v1.0/aws/AmazonEC2/current/region_index.json"
SPOT_URL = "https://website.spot.ec2.aws.a2z.com/spot.json"
SPOT_SOURCE = "EC2 console spot feed (public but undocumented by AWS)"
REGIONS = ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1")
# instance family -> GPU name as the catalog knows it
FAMILIES = {
    "p6-b200": "B200",
    "p5en": "H200 SXM",
    "p5e": "H200 SXM",
    "p5": "H100 SXM",
    "p4de": "A100 SXM4 80GB",
    "p4d": "A100 SXM4 40GB",
    "p3": "Tesla V100-SXM2-16GB",
    "g6e": "L40S",
    "g6": "L4",
    "g5": "A10G",
    "g4dn": "T4",
}
TERMS = {"1yr": "1y", "3yr": "3y"}
DISCLAIMER_LINES = 5


def is_gpu_row(line: str) -> bool:
    return any(f'"{family}.' in line for family in FAMILIES)


def is_kept_line(line: str) -> bool:
    return line.startswith('"SKU"') or is_gpu_row(line)


class AwsAdapter(Adapter):
    slug = "aws"
    name = "Amazon Web Services"
    website = "https://aws.amazon.com/ec2/"

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        index = record("region-index", await http.get(self.url(REGION_INDEX)))
        regions = field(load_json(index, self.slug), "regions", provider=self.slug, where="index")
        responses = [index]
        for code in REGIONS:
            if code not in regions:
                continue  # a region AWS no longer lists: nothing to price
            path = field(regions, code, "currentVersionUrl", provider=self.slug, where="index")
            url = self.url(PRICING_HOST + str(path).removesuffix(".json") + ".csv")
            response, lines = await http.get_lines(url, is_kept_line)
            responses.append(
                RawResponse(
                    name=f"prices-{code}",
                    url=str(response.request.url),
                    status=response.status_code,
                    content_type=response.headers.get("content-type", ""),
                    fetched_at=datetime.now(UTC),
                    body="\n".join(lines) + "\n",
                )
            )
        responses.append(record("spot", await http.get(self.url(SPOT_URL))))
        return responses

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        offers: list[ParsedOffer] = []
        gpu_counts: dict[str, int] = {}
        location_names: dict[str, str] = {}
        price_files = sorted(
            (r for r in responses if r.name.startswith("prices-")), key=lambda r: r.name
        )
        if not price_files:
            raise DataError(f"{self.slug}: no 'prices-*' response in the fetched data")
        for response in price_files:
            offers.extend(self._price_list(response, gpu_counts, location_names))
        # The spot feed states prices only: an instance's size is the price list's
        # (the same instance type is the same machine, whatever the market).
        shapes = {o.instance_type: o for o in offers}
        for spot in self._spot(
            response_named(responses, self.slug, "spot"), gpu_counts, location_names
        ):
            shape = shapes[spot.instance_type]  # a spot size is kept only when listed there
            offers.append(
                replace(
                    spot,
                    vcpus=shape.vcpus,
                    memory_gb=shape.memory_gb,
                    storage_gb=shape.storage_gb,
                )
            )
        return offers

    def _price_list(
        self, response: RawResponse, gpu_counts: dict[str, int], location_names: dict[str, str]
    ) -> list[ParsedOffer]:
        rows = csv.DictReader(response.body.splitlines())
        required = {
            "TermType",
            "PricePerUnit",
            "Currency",
            "Unit",
            "Instance Type",
            "Tenancy",
            "Operating System",
            "CapacityStatus",
            "Pre Installed S/W",
            "Region Code",
            "Location",
            "GPU",
            "LeaseContractLength",
            "PurchaseOption",
            "OfferingClass",
            "vCPU",
            "Memory",
            "MarketOption",
        }
        missing = required - set(rows.fieldnames or ())
        if missing:
            raise DataError(
                f"{self.slug}: {response.name} lacks column(s) {', '.join(sorted(missing))}"
            )
        offers = []
        for row in rows:
            instance = row["Instance Type"]
            family = instance.split(".", 1)[0]
            if family not in FAMILIES or row["Unit"] != "Hrs":
                continue
            if row["MarketOption"] != "OnDemand":
                continue  # "CapacityBlock": capacity bought ahead for fixed dates
            if (
                row["Tenancy"],
                row["Operating System"],
                row["CapacityStatus"],
                row["Pre Installed S/W"],
            ) != ("Shared", "Linux", "Used", "NA"):
                continue
            kind: PricingKind = "on_demand"
            term = ""
            if row["TermType"] == "Reserved":
                if row["PurchaseOption"] != "No Upfront" or row["OfferingClass"] != "standard":
                    continue
                if row["LeaseContractLength"] not in TERMS:
                    continue
                kind, term = "reserved", TERMS[row["LeaseContractLength"]]
            elif row["TermType"] != "OnDemand":
                continue
            where = f"{response.name} {instance}"
            price = money(row["PricePerUnit"], provider=self.slug, where=where)
            if price == 0:
                continue
            try:
                gpus = int(row["GPU"])
            except ValueError:
                raise DataError(
                    f"{self.slug}: {where}: GPU count {row['GPU']!r} is not a number"
                ) from None
            region = row["Region Code"]
            gpu_counts[instance] = gpus
            location_names[region] = row["Location"]
            offers.append(
                ParsedOffer(
                    provider=self.slug,
                    instance_type=instance,
                    raw_gpu_name=FAMILIES[family],
                    gpu_count=gpus,
                    region_code=region,
                    region_name=row["Location"],
                    pricing_kind=kind,
                    reserved_term=term,
                    price=price,
                    price_basis="instance",
                    currency=row["Currency"],
                    raw_price=row["PricePerUnit"],
                    raw_unit="USD / instance-hour"
                    + (f", {row['LeaseContractLength']} no upfront" if term else ""),
                    observed_at=response.fetched_at,
                    vcpus=int(row["vCPU"]) if row["vCPU"].isdigit() else None,
                    memory_gb=_gib(row["Memory"]),
                    storage_gb=_instance_store_gb(row.get("Storage")),
                )
            )
        return offers

    def _spot(
        self, response: RawResponse, gpu_counts: dict[str, int], location_names: dict[str, str]
    ) -> list[ParsedOffer]:
        body = response.body.strip()
        if body.startswith("callback("):  # the feed's JSONP form
            body = body.removeprefix("callback(").removesuffix(");").removesuffix(")")
            response = replace(response, body=body)
        regions = field(
            load_json(response, self.slug), "config", "regions", provider=self.slug, where="spot"
        )
        offers = []
        for region in regions:
            code = field(region, "region", provider=self.slug, where="spot region")
            for instance_type in field(
                region, "instanceTypes", provider=self.slug, where=f"spot {code}"
            ):
                for size in field(instance_type, "sizes", provider=self.slug, where=f"spot {code}"):
                    name = field(size, "size", provider=self.slug, where=f"spot {code}")
                    family = name.split(".", 1)[0]
                    if family not in FAMILIES or name not in gpu_counts:
                        continue
                    linux = [c for c in size.get("valueColumns", []) if c.get("name") == "linux"]
                    raw = linux[0].get("prices", {}).get("USD") if linux else None
                    if raw is None or not str(raw)[:1].isdigit():
                        continue  # "N/A*": no spot market for this size here
                    offers.append(
                        ParsedOffer(
                            provider=self.slug,
                            instance_type=name,
                            raw_gpu_name=FAMILIES[family],
                            gpu_count=gpu_counts[name],
                            region_code=code,
                            region_name=location_names.get(code, code),
                            pricing_kind="spot",
                            price=money(raw, provider=self.slug, where=f"spot {code} {name}"),
                            price_basis="instance",
                            currency="USD",
                            raw_price=str(raw),
                            raw_unit="USD / instance-hour (undocumented spot feed)",
                            observed_at=response.fetched_at,
                            details={"source": SPOT_SOURCE},
                        )
                    )
        return offers


INSTANCE_STORE = re.compile(r"\s*(\d+)\s*x\s*(\d+(?:\.\d+)?)\s*(GB)?\b", re.IGNORECASE)


def _instance_store_gb(storage: str | None) -> Any:
    """The price list's ``Storage`` ("8 x 3840 NVMe SSD": disks x GB each) in GB; None for
    "EBS only" (no local disk: storage is a separate EBS charge) or no such column."""
    if storage is None or not storage.strip() or "ebs only" in storage.casefold():
        return None
    match = INSTANCE_STORE.match(storage)
    if match is None:
        return storage  # a form we do not read: dropped by the store, and named
    return round(int(match.group(1)) * float(match.group(2)), 1)


def _gib(memory: str) -> float | None:
    """ "1024 GiB" -> 1024.0."""
    number = memory.replace(",", "").split(" ", 1)[0]
    try:
        return float(number)
    except ValueError:
        return None
