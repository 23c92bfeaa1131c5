"""The sixteen providers added for issue 28, each against a local fake of its real API: the
quirks the evidence names (cents, strings for numbers, fractional GPUs, zero list prices,
euros, paging, aggregators naming the cloud underneath), a layout change failing that
provider only, keys required only where the API needs them, and replay of an archive."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from site_builder.db.models import GpuOffer
from site_builder.errors import DataError
from site_builder.pull.gpu import PriceReport, PullSettings, pull_prices
from site_builder.pull.gpu.catalog import load_catalog
from site_builder.pull.gpu.http import Http, RetryPolicy
from site_builder.pull.gpu.offer import ParsedOffer
from site_builder.pull.gpu.providers import AGGREGATORS, Adapter, MissingCredentials, all_adapters
from tests.fake_gpu_apis import mock_transport, serve_fake_apis
from tests.fake_gpu_apis.payloads import FakeRequest

ROOT = Path(__file__).resolve().parent.parent
CATALOG = load_catalog(ROOT / "data/gpu_catalog.toml")
NEBIUS_TABLE = ROOT / "data/gpu_prices/nebius.toml"
NEW = [
    "cloudrift", "crusoe", "digitalocean", "hotaisle", "hyperbolic", "jarvislabs", "latitude",
    "linode", "mithril", "novita", "ovhcloud", "primeintellect", "scaleway", "seeweb",
    "shadeform", "vultr",
]  # fmt: skip
KEYS = {
    "DIGITALOCEAN_TOKEN": "k", "HOTAISLE_API_KEY": "k", "HOTAISLE_TEAM_HANDLE": "team",
    "HYPERBOLIC_API_KEY": "k", "JARVISLABS_API_KEY": "k", "LATITUDE_API_KEY": "k",
    "MITHRIL_API_KEY": "k", "NOVITA_API_KEY": "k", "PRIME_API_KEY": "k", "SCW_SECRET_KEY": "k",
    "SEEWEB_API_TOKEN": "k", "SHADEFORM_API_KEY": "k",
}  # fmt: skip
offers_t = GpuOffer.__table__


def adapter(slug: str) -> Adapter:
    return next(a for a in all_adapters(NEBIUS_TABLE) if a.slug == slug)


def parsed(slug: str) -> list[ParsedOffer]:
    """The adapter's real fetch against the fake of the real host, then its parse."""
    chosen = adapter(slug)

    async def run() -> list[ParsedOffer]:
        async with httpx.AsyncClient(transport=mock_transport()) as client:
            env = {name: KEYS.get(name, "k") for name in chosen.credential_env}
            responses = await chosen.fetch(Http(client), chosen.credentials(env))
        assert all(r.status == 200 for r in responses), [(r.url, r.status) for r in responses]
        return chosen.parse(responses)

    return asyncio.run(run())


def by_type(offers: list[ParsedOffer]) -> dict[str, list[ParsedOffer]]:
    grouped: dict[str, list[ParsedOffer]] = {}
    for offer in offers:
        grouped.setdefault(offer.instance_type, []).append(offer)
    return grouped


async def no_sleep(_seconds: float) -> None:
    return None


def pull(
    engine: Engine,
    providers: list[str],
    *,
    env: Mapping[str, str] = KEYS,
    mutate: dict[str, object] | None = None,
    archive: Path | None = None,
) -> PriceReport:
    with serve_fake_apis(mutate=mutate) as apis:  # type: ignore[arg-type]
        adapters = [
            a for a in all_adapters(NEBIUS_TABLE, base_urls=apis.base_urls()) if a.slug in providers
        ]
        return pull_prices(
            engine,
            adapters,
            CATALOG,
            env=dict(env),
            archive_root=archive,
            settings=PullSettings(
                retry=RetryPolicy(sleep=no_sleep, jitter=lambda: 1.0),
                request_timeout_s=2.0,
                ecb_url=apis.ecb_url,
            ),
        )


def active(engine: Engine, provider: str) -> dict[tuple[str, str, str], Decimal]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                offers_t.c.instance_type,
                offers_t.c.region_code,
                offers_t.c.pricing_kind,
                offers_t.c.price_per_gpu_usd,
            ).where(offers_t.c.provider_slug == provider, offers_t.c.is_active.is_(True))
        ).all()
    return {(r[0], r[1], r[2]): r[3] for r in rows}


# ----------------------------------------------------------------------------- quirks


def test_every_new_adapter_names_its_evidence_and_the_day_it_was_checked() -> None:
    for slug in NEW:
        doc = type(adapter(slug)).__module__
        text = (ROOT / (doc.replace(".", "/") + ".py")).read_text()
        assert "checked 2026-12-04" in text, slug
        assert "Evidence" in text or "gpuhunt" in text, slug


def test_vultr_skips_fractional_gpus_and_the_free_tier_follows_the_cursor() -> None:
    offers = by_type(parsed("vultr"))
    assert "vcg-a100-1c-6g-4vram" not in offers and "vcg-h100-1c-10g-10vram" not in offers
    assert "vc2-1c-1gb-free" not in offers
    assert "vcg-a40-6c-60g-48vram" in offers  # on the second page of the cursor
    assert {o.gpu_count for o in offers["vcg-a100-24c-240g-160vram"]} == {2}  # 160 GB / 80 GB
    h100 = offers["vbm-112c-2048gb-8-h100-gpu"]
    assert {o.pricing_kind for o in h100} == {"on_demand", "spot"}  # hourly_cost_preemptible
    assert {(o.gpu_count, o.raw_gpu_name) for o in offers["vbm-72c-480gb-gh200-gpu"]} == {
        (1, "metal gh200")
    }


def test_digitalocean_keeps_a_size_without_regions_as_unavailable_and_pages() -> None:
    offers = by_type(parsed("digitalocean"))
    assert "s-1vcpu-512mb-10gb" not in offers  # CPU Droplet
    [sold_out] = offers["gpu-mi300x8-1536gb"]
    assert (sold_out.region_code, sold_out.available) == ("any", False)
    assert "gpu-6000adax1-48gb" in offers  # second page (links.pages.next)
    [one] = [o for o in offers["gpu-h100x8-640gb"] if o.region_code == "atl1"]
    assert one.gpu_count == 8 and one.memory_gb == 1920


def test_linode_reads_region_prices_and_a_zero_list_price_is_price_on_request() -> None:
    offers = by_type(parsed("linode"))
    assert {(o.region_code, o.price) for o in offers["g2-gpu-rtx4000a1-s"]} == {
        ("us-ord", Decimal("0.52")),
        ("de-fra-2", Decimal("0.52")),
    }
    [on_request] = offers["g2-gpu-rtx4000a4-m"]
    assert on_request.price is None and on_request.price_on_request
    assert {o.raw_gpu_name for o in offers["g1-gpu-rtx6000-2"]} == {"RTX6000"}
    assert "g6-nanode-1" not in offers


def test_scaleway_prices_are_euros_per_zone_and_names_carry_the_gpu() -> None:
    offers = parsed("scaleway")
    assert {o.currency for o in offers} == {"EUR"}
    assert {o.region_code for o in offers} == {"fr-par-1", "fr-par-2", "nl-ams-1", "pl-waw-2"}
    names = {o.instance_type: o.raw_gpu_name for o in offers}
    assert names["H100-SXM-8-80G"] == "H100-SXM 80G" and names["L4-1-24G"] == "L4 24G"
    assert "DEV1-S" not in names
    assert CATALOG.resolve("scaleway", names["RENDER-S"]) is None  # held back, not guessed


def test_cloudrift_prices_are_cents_and_empty_capacity_is_unavailable() -> None:
    offers = by_type(parsed("cloudrift"))
    one = offers["rtx49-10c-kn.1"][0]
    assert one.raw_unit.startswith("USD cents") and one.price == Decimal(one.raw_price) / 100
    [none] = offers["rtx59-16c-nr.4"]
    assert (none.region_code, none.available) == ("any", False)
    [zero] = offers["rtx49-10c-kn.8"]
    assert zero.available is False  # a data centre with 0 free nodes


def test_hotaisle_sends_its_token_and_reads_cents() -> None:
    offers = parsed("hotaisle")
    assert {o.gpu_count for o in offers} == {1, 2, 4, 8}
    assert all(o.price == Decimal(o.raw_price) / 100 for o in offers)
    with pytest.raises(MissingCredentials) as error:
        adapter("hotaisle").credentials({"HOTAISLE_API_KEY": "k"})
    assert error.value.names == ("HOTAISLE_TEAM_HANDLE",)


def test_jarvislabs_one_offer_per_gpu_and_region_whatever_the_workload_rows() -> None:
    offers = parsed("jarvislabs")
    on_demand = [o for o in offers if o.pricing_kind == "on_demand"]
    assert len(on_demand) == len({(o.raw_gpu_name, o.region_code) for o in on_demand}) == 6
    assert {o.price_basis for o in offers} == {"gpu"}
    assert not any(o.pricing_kind == "spot" and o.raw_gpu_name == "H100" for o in offers)
    [h200] = [o for o in offers if o.raw_gpu_name == "H200"]
    assert h200.available is False  # no free devices


def test_seeweb_reads_numbers_sent_as_strings_and_skips_cpu_and_retired_plans() -> None:
    offers = by_type(parsed("seeweb"))
    assert "eCS4" not in offers and "ECS1GPU1" not in offers
    assert [o.region_code for o in offers["ECS2GPU3"]] == ["it-fr2"]  # listed twice, kept once
    assert {o.gpu_count for o in offers["ECS2GPU7"]} == {2}
    assert {o.currency for os in offers.values() for o in os} == {"EUR"}


def test_latitude_needs_a_usd_price_and_in_stock_means_available() -> None:
    offers = by_type(parsed("latitude"))
    assert {o.region_code for o in offers["g3-h100-large"]} == {"DAL"}  # SAO is BRL only
    availability = {o.region_code: o.available for o in offers["g3-l40s-medium"]}
    assert availability == {"CHI": True, "LON": False}


def test_mithril_joins_auction_prices_to_types_by_fid() -> None:
    offers = parsed("mithril")
    assert {o.pricing_kind for o in offers} == {"spot"}
    assert all(o.raw_price.startswith("$") for o in offers)
    assert {o.instance_type for o in offers} == {"h100-80gb.sxm.8x", "a100-80gb.sxm.8x"}
    broken = adapter("mithril")
    responses = asyncio.run(_fetch(broken))
    spot = next(r for r in responses if r.name == "spot-availability")
    body = json.loads(spot.body)
    body[0]["instance_type"] = "it_unknown"
    from dataclasses import replace

    with pytest.raises(DataError, match="unknown instance type"):
        broken.parse([r if r is not spot else replace(r, body=json.dumps(body)) for r in responses])


async def _fetch(chosen: Adapter) -> list:  # type: ignore[type-arg]
    async with httpx.AsyncClient(transport=mock_transport()) as client:
        return await chosen.fetch(Http(client), {n: "k" for n in chosen.credential_env})


def test_novita_prices_are_in_units_of_1e5_dollars_per_gpu() -> None:
    offers = by_type(parsed("novita"))
    one = offers["4090.16c62g"][0]
    assert one.price == Decimal(one.raw_price) / 100000 and one.price_basis == "gpu"
    assert {o.pricing_kind for o in offers["A100-80GB.14c240g"]} == {"on_demand"}
    assert {o.region_name for o in offers["4090.16c62g"]} >= {"California", "United Kingdom"}
    assert "retired.8c" not in offers  # a price of "0" is no price
    assert all(o.available is False for o in offers["H200.16c240g"])


def test_hyperbolic_skips_cpu_rows_and_reads_spot_only_when_set() -> None:
    offers = by_type(parsed("hyperbolic"))
    assert "0x-CPU-32" not in offers
    assert {o.pricing_kind for o in offers["1x-H100-SXM"]} == {"on_demand", "spot"}
    assert {o.pricing_kind for o in offers["8x-H100-SXM"]} == {"on_demand"}
    assert {o.raw_gpu_name for o in offers["8x-H200-SXM"]} == {"H200 141GB"}


@pytest.mark.parametrize("slug", ["shadeform", "primeintellect"])
def test_aggregator_offers_name_the_cloud_underneath(slug: str) -> None:
    offers = parsed(slug)
    assert offers and all(o.details["via"] and o.details["aggregator"] == slug for o in offers)
    assert all(o.region_code.startswith(o.details["via"] + "/") for o in offers)
    assert {type(adapter(slug)) for _ in [0]} <= set(AGGREGATORS)


def test_prime_intellect_pages_by_total_count_and_prefers_the_community_price() -> None:
    offers = parsed("primeintellect")
    assert len(offers) == 9  # three pages of at most four
    community = [o for o in offers if "community_cloud" in o.instance_type]
    assert community and all(o.price > 0 for o in community)  # type: ignore[operator]
    assert {o.pricing_kind for o in offers if o.details["via"] == "datacrunch"} == {
        "spot",
        "on_demand",
    }
    [gone] = [o for o in offers if o.instance_type.startswith("lambdalabs/")]
    assert gone.available is False  # stockStatus "Unavailable"


def test_shadeform_prices_are_cents_per_instance() -> None:
    offers = parsed("shadeform")
    assert all(o.price == Decimal(o.raw_price) / 100 for o in offers)  # type: ignore[operator]
    assert {o.raw_gpu_name for o in offers} >= {"H100 sxm5", "H100 pcie", "A100_80G sxm4"}


@pytest.mark.parametrize("slug", ["crusoe", "ovhcloud"])
def test_dated_tables_say_when_their_prices_were_read(slug: str) -> None:
    offers = parsed(slug)
    assert offers and all(
        o.details["as_of"] and o.details["source"] == "static table" for o in offers
    )
    assert adapter(slug).pricing_source == "static"
    if slug == "ovhcloud":
        assert {o.currency for o in offers} == {"EUR"}
    else:
        assert {o.pricing_kind for o in offers} == {"on_demand", "spot"}


# ----------------------------------------------------------------------------- pipeline


def test_every_new_provider_pulls_archives_and_replays_the_same(
    engine: Engine, tmp_path: Path
) -> None:
    report = pull(engine, NEW, archive=tmp_path / "archive")
    assert {r.provider: r.status for r in report.results} == dict.fromkeys(NEW, "ok")
    assert all(r.stored > 0 for r in report.results), [
        (r.provider, r.stored) for r in report.results
    ]
    live = {p: active(engine, p) for p in NEW}
    unknown = {r.provider: r.unknown_gpu_names for r in report.results if r.unknown_gpu_names}
    assert unknown == {
        "novita": ["RTX 3090 24GB"],
        "scaleway": ["RENDER-S"],
        "vultr": ["NVIDIA_A16"],
    }
    [run_dir] = (tmp_path / "archive").iterdir()
    replayed = pull_prices(engine, all_adapters(NEBIUS_TABLE), CATALOG, snapshot_dir=run_dir)
    assert {r.provider for r in replayed.results} == set(NEW)
    assert all(r.status == "ok" and r.changed == 0 for r in replayed.results)
    assert {p: active(engine, p) for p in NEW} == live


def test_euro_prices_are_converted_to_dollars(engine: Engine) -> None:
    pull(engine, ["scaleway", "seeweb"])
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                offers_t.c.raw_currency, offers_t.c.raw_price, offers_t.c.instance_price_usd
            ).where(offers_t.c.provider_slug.in_(["scaleway", "seeweb"]))
        ).all()
    assert rows and all(
        r.raw_currency == "EUR" and r.instance_price_usd > Decimal(r.raw_price) for r in rows
    )


def test_without_keys_only_the_providers_that_need_one_are_skipped(engine: Engine) -> None:
    report = pull(engine, NEW, env={})
    status = {r.provider: r.status for r in report.results}
    keyless = {"cloudrift", "crusoe", "linode", "ovhcloud", "vultr"}
    assert {p for p, s in status.items() if s == "ok"} == keyless
    skipped = {r.provider: r.message for r in report.results if r.status == "skipped"}
    assert set(skipped) == set(NEW) - keyless
    assert "set SHADEFORM_API_KEY to pull its prices" in skipped["shadeform"]
    assert "HOTAISLE_API_KEY and HOTAISLE_TEAM_HANDLE" in skipped["hotaisle"]


def _layout_change(_request: FakeRequest, body: bytes) -> bytes:
    """The provider renamed every field: still JSON, nothing where it used to be."""
    try:
        document = json.loads(body)
    except ValueError:
        return body
    return json.dumps({"renamed": document}).encode()


@pytest.mark.parametrize("slug", [p for p in NEW if p not in ("crusoe", "ovhcloud")])
def test_a_layout_change_fails_that_provider_only_and_keeps_its_prices(
    engine: Engine, slug: str
) -> None:
    pull(engine, NEW)
    before = {p: active(engine, p) for p in NEW}
    report = pull(engine, NEW, mutate={slug: _layout_change})
    status = {r.provider: r.status for r in report.results}
    assert status.pop(slug) == "failed"
    assert set(status.values()) == {"ok"}
    assert {p: active(engine, p) for p in NEW} == before


def test_a_broken_dated_table_fails_that_provider_only(engine: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "gpu_prices"
    bad.mkdir()
    (bad / "nebius.toml").write_text(NEBIUS_TABLE.read_text())
    (bad / "crusoe.toml").write_text('as_of = "yesterday"\n')
    (bad / "ovhcloud.toml").write_text((ROOT / "data/gpu_prices/ovhcloud.toml").read_text())
    adapters = [a for a in all_adapters(bad / "nebius.toml") if a.slug in ("crusoe", "ovhcloud")]
    report = pull_prices(
        engine, adapters, CATALOG, env={}, settings=PullSettings(ecb_url="http://127.0.0.1:9/x")
    )
    results = {r.provider: r for r in report.results}
    assert results["crusoe"].status == "failed" and "as_of" in results["crusoe"].message
    assert results["ovhcloud"].status == "ok"
