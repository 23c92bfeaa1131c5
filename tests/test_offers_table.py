"""The cloudgpus offers table: on-demand rows first, then spot, then reserved; the pricing
kinds kept filterable; each instance's vCPU, RAM and storage under its name where stated.
And the provider page's link out to the provider."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import html

from site_builder.pull.gpu.providers import all_adapters
from site_builder.render.environment import instance_size, make_environment

ROOT = Path(__file__).resolve().parent.parent
SEEN = datetime(2026, 12, 5, 2, tzinfo=UTC)


def offer(instance: str, kind: str, per_gpu: str, **extra: Any) -> dict[str, Any]:
    return {
        "gpu_model_slug": "h100-sxm",
        "provider_slug": "acme",
        "provider_name": "Acme",
        "pricing_source": "api",
        "affiliate_url": None,
        "instance_type": instance,
        "details": {},
        "region_code": "us-east",
        "region_name": "US East",
        "pricing_kind": kind,
        "reserved_term": "1y" if kind == "reserved" else "",
        "gpu_count": 8,
        "instance_price_usd": Decimal(per_gpu) * 8,
        "price_per_gpu_usd": Decimal(per_gpu),
        "available": True,
        "vcpus": None,
        "memory_gb": None,
        "storage_gb": None,
        "last_seen_at": SEEN,
    } | extra


def render(offers: list[dict[str, Any]]) -> html.HtmlElement:
    environment = make_environment(ROOT / "templates", {})
    page = environment.get_template("cloudgpus/_offers_table.html").render(
        offers=offers,
        caption=f"{len(offers)} offers",
        show_gpu=False,
        models={},
        f={"last_seen": SEEN},
    )
    return html.fromstring(page)


def column(table: html.HtmlElement, label: str) -> list[str]:
    return [td.text_content().strip() for td in table.xpath(f"//td[@data-label='{label}']")]


def test_on_demand_rows_come_first_then_spot_then_reserved_each_cheapest_first() -> None:
    # the order a page passes in: cheapest per GPU first, every kind mixed
    offers = [
        offer("r-cheap", "reserved", "1.50"),
        offer("s-cheap", "spot", "1.80"),
        offer("od-cheap", "on_demand", "2.20"),
        offer("r-dear", "reserved", "2.40"),
        offer("od-dear", "on_demand", "3.00"),
        offer("s-dear", "spot", "3.10"),
    ]
    table = render(offers)
    assert [i.split()[0] for i in column(table, "Instance")] == [
        "od-cheap",
        "od-dear",
        "s-cheap",
        "s-dear",
        "r-cheap",
        "r-dear",
    ]
    # the kinds stay filterable: a Pricing column whose cells carry the filter value
    assert table.xpath("//th[@data-filter='Pricing']")
    kinds = [td.get("data-filter-value") for td in table.xpath("//td[@data-label='Pricing']")]
    assert kinds == ["on-demand"] * 2 + ["spot"] * 2 + ["reserved"] * 2


def test_an_instance_shows_the_vcpu_ram_and_storage_its_provider_states() -> None:
    table = render(
        [
            offer(
                "gpu_8x_h100", "on_demand", "2.99", vcpus=208, memory_gb=1800, storage_gb=23622.3
            ),
            offer("half", "on_demand", "3.10", memory_gb=7.5, storage_gb=512),
            offer("bare", "on_demand", "3.20"),
        ]
    )
    assert column(table, "Instance") == [
        "gpu_8x_h100208 vCPU · 1,800 GB RAM · 23.6 TB storage",
        "half7.5 GB RAM · 512 GB storage",
        "bare",  # nothing stated: no empty line, no made-up size
    ]
    subs = table.xpath("//td[@data-label='Instance']/span[@class='sub']")
    assert [s.text for s in subs] == [
        "208 vCPU · 1,800 GB RAM · 23.6 TB storage",
        "7.5 GB RAM · 512 GB storage",
    ]
    # the key number columns stay where they were: right after the provider
    heads = [th.text_content() for th in table.xpath("//thead//th")]
    assert heads[:3] == ["Provider", "Per GPU-hour", "Per instance-hour"]
    assert len(heads) == len(set(heads))  # no column of its own for sizes


def test_storage_reads_in_decimal_units() -> None:
    assert instance_size({"storage_gb": 1920.0}) == "1.9 TB storage"
    assert instance_size({"storage_gb": 2000.0}) == "2 TB storage"
    assert instance_size({"storage_gb": 999.0}) == "999 GB storage"
    assert instance_size({"vcpus": 26, "memory_gb": 200.0}) == "26 vCPU · 200 GB RAM"
    assert instance_size({}) == ""


def provider_page(provider: dict[str, Any]) -> html.HtmlElement:
    """The provider page's link-out lines, rendered on their own (the whole page needs a
    full dataset; tests/test_pages.py checks it on the built demo)."""
    environment = make_environment(ROOT / "templates", {})
    source = (ROOT / "templates/cloudgpus/provider.html").read_text()
    block = source[source.index("{#- The way out") : source.index("<h2>How these")]
    rendered = environment.from_string(block).render(provider=provider)
    return html.fromstring(f"<div>{rendered}</div>")


def test_a_provider_page_links_out_to_the_provider() -> None:
    plain = provider_page({"name": "Lambda", "website": "https://lambda.ai", "affiliate_url": None})
    (link,) = plain.xpath("//a")
    assert (link.get("href"), link.text, link.get("rel")) == (
        "https://lambda.ai",
        "Visit Lambda",
        None,
    )
    paid = provider_page(
        {
            "name": "Lambda",
            "website": "https://lambda.ai",
            "affiliate_url": "https://lambda.ai/?ref=cloudgpus",
        }
    )
    (link,) = paid.xpath("//a")
    assert link.get("href") == "https://lambda.ai/?ref=cloudgpus"
    assert link.get("rel") == "sponsored nofollow"
    assert "affiliate link" in paid.text_content()


def test_every_adapter_names_the_providers_website() -> None:
    """The provider pages' link out comes from each adapter's `website`: every one has an
    https address of its own (not an API host)."""
    adapters = all_adapters(ROOT / "data/gpu_prices/nebius.toml")
    assert len(adapters) >= 30
    for adapter in adapters:
        assert adapter.website.startswith("https://"), adapter.slug
        assert "api." not in adapter.website, adapter.slug
