"""Each existing adapter against the quirks of its real answers (see each adapter's docstring
for the evidence): footnotes, missing fields, "contact for pricing", SKU names, duplicates,
capacity blocks, capped searches. These fail on the assumptions the adapters used to make."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from site_builder.db.models import GpuOffer
from site_builder.db.models_gpu_request import GpuOfferOnRequest
from site_builder.pull.gpu import PullSettings, pull_prices
from site_builder.pull.gpu.catalog import load_catalog
from site_builder.pull.gpu.http import Http, RetryPolicy
from site_builder.pull.gpu.offer import ParsedOffer, RawResponse
from site_builder.pull.gpu.on_request import split_on_request
from site_builder.pull.gpu.pipeline import PriceRules, normalize
from site_builder.pull.gpu.providers import MissingCredentials, all_adapters
from site_builder.pull.gpu.providers.azure import FILTER
from tests.fake_gpu_apis import mock_transport, serve_fake_apis
from tests.fake_gpu_apis.payloads import VAST_MACHINES, FakeRequest, vast_machines

ROOT = Path(__file__).resolve().parent.parent
CATALOG = load_catalog(ROOT / "data/gpu_catalog.toml")
NEBIUS_TABLE = ROOT / "data/gpu_prices/nebius.toml"
CREDENTIALS = {
    "LAMBDA_API_KEY": "k",
    "GCP_API_KEY": "k",
    "VERDA_CLIENT_ID": "id",
    "VERDA_CLIENT_SECRET": "secret",
    "HYPERSTACK_API_KEY": "k",
    "TENSORDOCK_API_KEY": "k",
    "CUDO_API_KEY": "k",
}
Edit = Callable[[FakeRequest, bytes], bytes]


def fetched(slug: str, edit: Edit | None = None) -> list[RawResponse]:
    """The adapter's real fetch against the fake of its API (optionally edited)."""
    inner = mock_transport()

    def handle(request: httpx.Request) -> httpx.Response:
        response = inner.handle_request(request)
        if edit is None:
            return response
        fake = FakeRequest(request.method, request.url.path, {}, {}, request.content)
        return httpx.Response(
            response.status_code, headers=response.headers, content=edit(fake, response.read())
        )

    async def run() -> list[RawResponse]:
        [adapter] = [a for a in all_adapters(NEBIUS_TABLE) if a.slug == slug]
        async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
            policy = RetryPolicy(attempts=1, sleep=lambda _s: asyncio.sleep(0))
            return await adapter.fetch(Http(client, policy), adapter.credentials(CREDENTIALS))

    return asyncio.run(run())


def parsed(slug: str, edit: Edit | None = None) -> list[ParsedOffer]:
    [adapter] = [a for a in all_adapters(NEBIUS_TABLE) if a.slug == slug]
    return adapter.parse(fetched(slug, edit))


def by_key(offers: list[ParsedOffer]) -> dict[str, ParsedOffer]:
    return {o.key: o for o in offers}


# --------------------------------------------------------------------------- coreweave


def test_coreweave_reads_the_div_grid_per_region_with_spot_and_footnoted_counts() -> None:
    offers = by_key(parsed("coreweave"))
    h100_na = offers["coreweave/8x NVIDIA HGX H100/na/on_demand"]
    h100_eu = offers["coreweave/8x NVIDIA HGX H100/eu/on_demand"]
    spot = offers["coreweave/8x NVIDIA HGX H100/na/spot"]
    assert h100_na.region_name == "North America" and h100_eu.region_name == "Europe"
    assert h100_eu.price != h100_na.price  # each section has its own prices
    assert spot.price is not None and h100_na.price is not None and spot.price < h100_na.price
    assert "coreweave/8x NVIDIA HGX B200/eu/on_demand" not in offers  # not sold there
    assert "coreweave/8x NVIDIA GH200/na/spot" not in offers  # "—": no spot offer
    # "4<sup>1</sup>" is four GPUs with a footnote, not 41; "Contact Sales" is no number
    gb200 = offers["coreweave/4x NVIDIA GB200 NVL72/na/on_demand"]
    assert gb200.gpu_count == 4 and gb200.price is None and gb200.price_on_request
    assert h100_na.vcpus == 128 and h100_na.memory_gb == 2048


# --------------------------------------------------------------------------- voltage park


def test_voltage_park_reads_offer_cards_by_fabric_and_never_prices_contact_for_pricing() -> None:
    offers = parsed("voltagepark")
    priced = {o.instance_type: o for o in offers if o.price is not None}
    assert set(priced) == {"On-demand H100 (Ethernet)", "On-demand H100 (InfiniBand)"}
    assert priced["On-demand H100 (Ethernet)"].price == Decimal("1.99")
    assert all(o.price_basis == "gpu" and o.gpu_count == 8 for o in offers)
    on_request = {
        (o.instance_type, o.pricing_kind, o.reserved_term) for o in offers if o.price is None
    }
    assert on_request == {
        ("On-demand H200 (InfiniBand)", "on_demand", ""),
        ("Reserved clusters", "reserved", "1y"),
    }
    assert all(o.price_on_request for o in offers if o.price is None)
    assert "Storage" not in {o.instance_type for o in offers}  # a card without a GPU


# --------------------------------------------------------------------------- gcp


def test_gcp_prices_a3_mega_h200_and_the_bundled_local_ssd() -> None:
    offers = by_key(parsed("gcp"))
    mega = offers["gcp/a3-megagpu-8g/us-central1/on_demand"]
    mega_spot = offers["gcp/a3-megagpu-8g/us-central1/spot"]  # its GPU SKU says "Plus"
    assert mega.details["local_ssd_gib"] == 6000 and mega_spot.price is not None
    parts = mega.details
    expected = (
        Decimal(parts["gpu_hour"]) * 8
        + Decimal(parts["vcpu_hour"]) * 208
        + Decimal(parts["gib_hour"]) * 1872
        + Decimal(parts["local_ssd_gib_hour"]) * 6000
    )
    assert mega.price == expected
    assert Decimal(parts["local_ssd_gib_hour"]) == Decimal("0.08") / 730
    # H200 ("H200 141GB GPU") is sold by reservation: spot listed, on demand never
    assert "gcp/a3-ultragpu-8g/us-central1/spot" in offers
    assert not any(k.startswith("gcp/a3-ultragpu-8g/") and k.endswith("on_demand") for k in offers)
    # a1-highgpu keeps no SSD; a commitment SKU is never read as a price
    a2 = offers["gcp/a2-highgpu-1g/us-central1/on_demand"]
    assert a2.details["local_ssd_gib"] == 0
    assert Decimal(a2.details["vcpu_hour"]) > Decimal("0.03")  # not the 1-year commitment


# --------------------------------------------------------------------------- azure


def test_azure_asks_only_documented_filters_and_drops_non_primary_meters() -> None:
    assert "startswith" not in FILTER and "contains(" in FILTER
    responses = fetched("azure")
    assert all(r.status == 200 for r in responses)
    offers = by_key(parsed("azure"))
    items = [
        item
        for r in responses
        for item in json.loads(r.body)["Items"]
        if item["armSkuName"] == "Standard_ND96isr_H100_v5"
        and item["armRegionName"] == "westeurope"
        and item["type"] == "Consumption"
        and item["meterName"] == "ND96isr H100 v5"
    ]
    if items:  # the fake lists this SKU in this region
        primary = next(i for i in items if i["isPrimaryMeterRegion"])
        offer = offers["azure/ND96isr_H100_v5/westeurope/on_demand"]
        assert offer.price == Decimal(str(primary["retailPrice"]))
    mi300x = [o for o in offers.values() if o.instance_type == "ND96isr_MI300X_v5"]
    assert mi300x and all(o.raw_gpu_name == "MI300X" and o.gpu_count == 8 for o in mi300x)


def test_azure_fake_refuses_an_undocumented_filter_function() -> None:
    transport = mock_transport()
    request = httpx.Request(
        "GET",
        "https://prices.azure.com/api/retail/prices",
        params={"$filter": "startswith(productName, 'Virtual Machines N')"},
    )
    assert transport.handle_request(request).status_code == 400


# --------------------------------------------------------------------------- aws


def test_aws_capacity_blocks_are_not_on_demand_prices_and_spot_names_its_source() -> None:
    responses = fetched("aws")
    offers = by_key(parsed("aws"))
    markets: dict[tuple[str, str], dict[str, str]] = {}
    for response in responses:
        if response.name.startswith("prices-"):
            for row in csv.DictReader(response.body.splitlines()):
                if (row["TermType"], row["Operating System"], row["Tenancy"]) == (
                    "OnDemand",
                    "Linux",
                    "Shared",
                ) and row["CapacityStatus"] == "Used":
                    key = (row["Instance Type"], row["Region Code"])
                    markets.setdefault(key, {})[row["MarketOption"]] = row["PricePerUnit"]
    blocks = {key: m for key, m in markets.items() if "CapacityBlock" in m}
    assert blocks  # the price list has capacity-block rows beside on-demand ones
    for (instance, region), prices in blocks.items():
        offer = offers[f"aws/{instance}/{region}/on_demand"]
        assert offer.raw_price == prices["OnDemand"] != prices["CapacityBlock"]
    spot = [o for o in offers.values() if o.pricing_kind == "spot"]
    assert spot and all("undocumented" in o.details["source"] for o in spot)


# --------------------------------------------------------------------------- vast


def test_vast_counts_every_machine_not_just_the_cheapest_thousand() -> None:
    responses = fetched("vast")
    bodies = [json.loads(r.request_body) for r in responses]
    assert all(b["limit"] == 1000 and "gpu_name" in b for b in bodies)
    offers = parsed("vast")
    counted = sum(o.details["offers"] for o in offers if o.pricing_kind == "on_demand")
    assert counted == VAST_MACHINES  # the big multi-GPU machines are in the medians
    eight = [m for m in vast_machines() if m["num_gpus"] == 8]
    assert eight and max(float(m["dph_total"]) for m in eight) / 8 >= max(
        float(o.details["min"]) for o in offers if o.pricing_kind == "on_demand"
    )


def test_vast_min_bid_is_for_the_whole_machine() -> None:
    machine = {
        "id": 1,
        "gpu_name": "H100 SXM",
        "num_gpus": 8,
        "dph_total": 16.0,
        "min_bid": 8.8,
        "geolocation": "Texas, US",
    }

    def only_one(request: FakeRequest, body: bytes) -> bytes:
        query = json.loads(request.body)
        mine = query["gpu_name"].get("eq") == "H100 SXM"
        return json.dumps({"offers": [machine] if mine else []}).encode()

    offers = by_key(parsed("vast", only_one))
    assert offers["vast/H100 SXM (marketplace)/us/on_demand"].price == Decimal(2)
    assert offers["vast/H100 SXM (marketplace)/us/spot"].price == Decimal("1.1")


# --------------------------------------------------------------------------- oci


def test_oci_prices_the_ocpu_part_per_gpu_and_maps_the_l40s_nc_shape() -> None:
    responses = fetched("oci")
    products = {p["partNumber"]: p for p in json.loads(responses[1].body)["items"]}
    offers = by_key(parsed("oci"))
    h100 = offers["oci/BM.GPU.H100.8/global/on_demand"]
    usd = products["B98415"]["currencyCodeLocalizations"][1]["prices"][0]["value"]
    assert h100.price == Decimal(str(usd)) * 8  # not the NVMe disk part listed first
    assert offers["oci/BM.GPU.L40S-NC.4/global/on_demand"].raw_gpu_name == "L40S"


def test_oci_a_part_not_billed_per_hour_holds_its_shape_back_with_the_reason() -> None:
    def monthly(_request: FakeRequest, body: bytes) -> bytes:
        return body.replace(b'"pricetype": "HOUR"', b'"pricetype": "MONTH"', 1)

    offers = parsed("oci", monthly)
    accepted, rejected = normalize(offers, CATALOG, PriceRules())
    assert accepted and rejected
    assert all(
        r.reason_code == "invalid" and "not pay-as-you-go per hour" in r.reason for r in rejected
    )


# --------------------------------------------------------------------------- cudo


def test_cudo_publishes_commitment_prices_as_reserved_terms_and_needs_its_key() -> None:
    offers = parsed("cudo")
    terms = {o.reserved_term for o in offers if o.pricing_kind == "reserved"}
    assert terms and terms <= {"1mo", "3mo", "6mo", "1y"}
    on_demand = {
        o.instance_type + o.region_code: o for o in offers if o.pricing_kind == "on_demand"
    }
    for offer in offers:
        if offer.pricing_kind == "reserved":
            base = on_demand[offer.instance_type + offer.region_code]
            assert offer.price is not None and base.price is not None and offer.price < base.price
    [adapter] = [a for a in all_adapters(NEBIUS_TABLE) if a.slug == "cudo"]
    with pytest.raises(MissingCredentials, match="CUDO_API_KEY"):
        adapter.credentials({})


# --------------------------------------------------------------------------- price on request


def test_price_on_request_is_stored_apart_and_follows_the_provider(engine: Engine) -> None:
    settings = PullSettings(
        retry=RetryPolicy(sleep=lambda _s: asyncio.sleep(0)), request_timeout_s=0.5
    )

    def pull(edit: Edit | None = None) -> int:
        with serve_fake_apis(mutate={"voltagepark": edit} if edit else None) as apis:
            adapters = [
                a for a in all_adapters(NEBIUS_TABLE, apis.base_urls()) if a.slug == "voltagepark"
            ]
            report = pull_prices(engine, adapters, CATALOG, env={}, settings=settings)
        [result] = report.results
        assert result.status == "ok" and result.stored == 2
        return result.on_request

    assert pull() == 2  # the run report says how many offers are on request
    with engine.connect() as connection:
        requests = connection.execute(
            select(GpuOfferOnRequest.__table__).where(GpuOfferOnRequest.__table__.c.is_active)
        ).all()
        priced = connection.execute(select(GpuOffer.__table__)).all()
    assert {(r.instance_type, r.gpu_model_slug, r.raw_text) for r in requests} == {
        ("On-demand H200 (InfiniBand)", "h200-sxm", "InfiniBand Contact for pricing"),
        ("Reserved clusters", "h100-sxm", "Contact for pricing"),
    }
    assert {r.instance_type for r in priced} == {
        "On-demand H100 (Ethernet)",
        "On-demand H100 (InfiniBand)",
    }

    # H200 gets a price, H100 Ethernet goes to "contact for pricing": both move at once
    def swap(_request: FakeRequest, body: bytes) -> bytes:
        return body.replace(
            b'<a class="price contact" href="/contact">Contact for pricing</a>',
            b'<span class="price">$2.99<span class="unit">/GPU/hr</span></span>',
            1,
        ).replace(
            b'<span class="price">$1.99<span class="unit">/GPU/hr</span></span>',
            b'<a class="price contact" href="/contact">Contact for pricing</a>',
        )

    pull(swap)
    table = GpuOfferOnRequest.__table__
    with engine.connect() as connection:
        active_requests = set(
            connection.execute(select(table.c.instance_type).where(table.c.is_active)).scalars()
        )
        active_prices = set(
            connection.execute(
                select(GpuOffer.__table__.c.instance_type).where(GpuOffer.__table__.c.is_active)
            ).scalars()
        )
    assert active_requests == {"On-demand H100 (Ethernet)", "Reserved clusters"}
    assert active_prices == {"On-demand H200 (InfiniBand)", "On-demand H100 (InfiniBand)"}


def test_an_offer_on_request_with_an_unknown_gpu_is_quarantined_like_any_other() -> None:
    offers = parsed("voltagepark", lambda _r, b: b.replace(b"H200 SXM5 141GB", b"H300 SXM9"))
    _priced, requested, rejected = split_on_request(offers, CATALOG)
    assert [r.reason_code for r in rejected] == ["unknown_gpu"]
    assert [r.parsed.instance_type for r in requested] == ["Reserved clusters"]


@pytest.mark.parametrize(
    "slug",
    [
        "aws",
        "azure",
        "coreweave",
        "cudo",
        "gcp",
        "hyperstack",
        "lambda",
        "nebius",
        "oci",
        "runpod",
        "tensordock",
        "vast",
        "verda",
        "voltagepark",
    ],
)
def test_every_fixed_adapter_names_its_evidence_and_the_day_it_was_checked(slug: str) -> None:
    [adapter] = [a for a in all_adapters(NEBIUS_TABLE) if a.slug == slug]
    doc = type(adapter).__module__
    text = (ROOT / (doc.replace(".", "/") + ".py")).read_text()
    assert "checked 2026-12-04" in text and "Sources" in text and "Unverified" in text


def test_a_provider_page_shows_price_on_request_and_no_figure_counts_it(built: Path) -> None:
    """The demo snapshot holds Voltage Park's "Contact for pricing" cards (H200 on demand,
    reserved clusters): the provider page lists them as such, never as a number."""
    page = (built / "output/cloudgpus/providers/voltagepark/index.html").read_text()
    section = page.split("<h2>Price on request</h2>", 1)[1].split("<h2>", 1)[0]
    assert "On-demand H200 (InfiniBand)" in section and "Reserved clusters" in section
    assert "reserved (1y)" in section and "on-demand" in section
    assert "$" not in section
    from site_builder.db import make_engine

    engine = make_engine(f"sqlite:///{built / 'store.db'}")
    with engine.connect() as connection:
        priced = set(
            connection.execute(
                select(GpuOffer.__table__.c.instance_type).where(
                    GpuOffer.__table__.c.provider_slug == "voltagepark"
                )
            ).scalars()
        )
    engine.dispose()
    assert priced == {"On-demand H100 (Ethernet)", "On-demand H100 (InfiniBand)"}
    h200 = (built / "output/cloudgpus/gpus/h200-sxm/index.html").read_text()
    assert "Voltage Park" not in h200  # no H200 figure counts an offer without a price


EXISTING = [
    "aws",
    "azure",
    "coreweave",
    "cudo",
    "gcp",
    "hyperstack",
    "lambda",
    "nebius",
    "oci",
    "runpod",
    "tensordock",
    "vast",
    "verda",
    "voltagepark",
]


def _comparable(offers: list[ParsedOffer]) -> dict[str, tuple[object, ...]]:
    return {
        o.key: (o.price, o.price_on_request, o.gpu_count, o.raw_gpu_name, o.available)
        for o in offers
    }


@pytest.mark.parametrize("slug", EXISTING)
def test_the_demo_snapshot_replays_to_the_offers_of_the_fakes(slug: str) -> None:
    """The checked-in demo archive is the fakes' answer: replaying it gives the same offers."""
    from site_builder.pull.gpu import snapshot

    [adapter] = [a for a in all_adapters(NEBIUS_TABLE) if a.slug == slug]
    archived = snapshot.read_provider(ROOT / "data/demo/gpu-snapshot", slug)
    assert _comparable(adapter.parse(archived)) == _comparable(parsed(slug))


@pytest.mark.parametrize("slug", EXISTING)
def test_pricing_kinds_stay_distinct_and_only_reserved_offers_carry_a_term(slug: str) -> None:
    offers = parsed(slug)
    assert offers
    for offer in offers:
        assert offer.pricing_kind in ("on_demand", "spot", "reserved"), offer.key
        assert bool(offer.reserved_term) == (offer.pricing_kind == "reserved"), offer.key
