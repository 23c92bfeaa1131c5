"""Every price adapter against a local fake of its API: what it stores, and how each kind
of provider failure ends (nothing wrong stored as accepted, nothing good lost)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from site_builder.db.models import FxRate, GpuOffer, GpuQuarantine
from site_builder.pull.gpu import (
    PriceReport,
    ProviderResult,
    PullSettings,
    pull_prices,
    snapshot,
)
from site_builder.pull.gpu.catalog import load_catalog
from site_builder.pull.gpu.http import RetryPolicy
from site_builder.pull.gpu.providers import NebiusAdapter, all_adapters
from tests.fake_gpu_apis import FakeApis, serve_fake_apis
from tests.fake_gpu_apis.payloads import FakeRequest, ecb_publication_day

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
offers_t = GpuOffer.__table__
Mutation = Callable[[FakeRequest, bytes], bytes]


async def no_sleep(_seconds: float) -> None:
    return None


def settings(**extra: object) -> PullSettings:
    return PullSettings(
        retry=RetryPolicy(sleep=no_sleep, jitter=lambda: 1.0),
        request_timeout_s=0.5,
        **extra,  # type: ignore[arg-type]
    )


def pull_with(
    engine: Engine,
    apis: FakeApis,
    providers: list[str],
    *,
    archive: Path | None = None,
    env: dict[str, str] | None = None,
) -> PriceReport:
    adapters = [
        a for a in all_adapters(NEBIUS_TABLE, base_urls=apis.base_urls()) if a.slug in providers
    ]
    return pull_prices(
        engine,
        adapters,
        CATALOG,
        env=CREDENTIALS if env is None else env,
        archive_root=archive,
        settings=settings(ecb_url=apis.ecb_url),
    )


def pull(
    engine: Engine,
    providers: list[str],
    *,
    mutate: dict[str, Mutation] | None = None,
    archive: Path | None = None,
    env: dict[str, str] | None = None,
) -> tuple[PriceReport, int]:
    with serve_fake_apis(mutate=mutate) as apis:
        report = pull_with(engine, apis, providers, archive=archive, env=env)
        return report, sum(apis.count(p) for p in providers)


def active_prices(engine: Engine, provider: str) -> dict[tuple[str, str, str, str], Decimal]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                offers_t.c.instance_type,
                offers_t.c.region_code,
                offers_t.c.pricing_kind,
                offers_t.c.reserved_term,
                offers_t.c.price_per_gpu_usd,
            ).where(offers_t.c.provider_slug == provider, offers_t.c.is_active.is_(True))
        ).all()
    return {tuple(r[:4]): r[4] for r in rows}


def json_edit(edit: Callable[[object], object]) -> Mutation:
    def mutation(_request: FakeRequest, body: bytes) -> bytes:
        return json.dumps(edit(json.loads(body))).encode()

    return mutation


def text_edit(old: str, new: str) -> Mutation:
    return lambda _request, body: body.replace(old.encode(), new.encode())


def scale_keys(keys: set[str], factor: int) -> Mutation:
    """Multiply every price field named in `keys`, wherever it sits in a JSON document."""

    def scale(value: object, key: str = "") -> object:
        if isinstance(value, dict):
            return {k: scale(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [scale(v, key) for v in value]
        if key in keys and isinstance(value, int | float) and not isinstance(value, bool):
            return value * factor
        if key in keys and isinstance(value, str) and re.fullmatch(r"[0-9.]+", value):
            return str(Decimal(value) * factor)
        return value

    return json_edit(scale)


def scale_dollars(factor: int) -> Mutation:
    def mutation(_request: FakeRequest, body: bytes) -> bytes:
        return re.sub(rb"\$([0-9.]+)", lambda m: b"$%d" % int(float(m.group(1)) * factor), body)

    return mutation


def empty_json(path_and_body: dict[str, object]) -> Mutation:
    def mutation(request: FakeRequest, body: bytes) -> bytes:
        for suffix, empty in path_and_body.items():
            if request.path.endswith(suffix):
                return json.dumps(empty).encode()
        return body

    return mutation


# A CoreWeave GPU row (a grid of divs), and the price options of a Voltage Park card.
PRICED_ROW = re.compile(
    rb'<div role="listitem" class="table-row-v2[^"]*">.*?</div></div></div>', re.S
)
OPTIONS = re.compile(rb'<ul class="pricing-options">.*?</ul>', re.S)


def aws_empty(request: FakeRequest, body: bytes) -> bytes:
    if request.path.endswith(".csv"):
        return b"\n".join(body.split(b"\n")[:6]) + b"\n"  # disclaimers and header only
    if request.path.endswith("spot.json"):
        return json.dumps({"config": {"regions": []}}).encode()
    return body


def aws_absurd(request: FakeRequest, body: bytes) -> bytes:
    if not request.path.endswith(".csv"):
        return scale_keys({"USD"}, 1000)(request, body)
    lines = body.decode().split("\n")
    for index, line in enumerate(lines):
        if '"Hrs","' in line:
            before, _, after = line.partition('"Hrs","')
            value, _, rest = after.partition('"')
            lines[index] = f'{before}"Hrs","{Decimal(value) * 1000}"{rest}'
    return "\n".join(lines).encode()


# provider: (a field to drop, a GPU name to make unknown, absurd prices, an empty answer)
CASES: dict[str, tuple[Mutation, Mutation, Mutation, Mutation]] = {
    "lambda": (
        text_edit('"price_cents_per_hour"', '"price_cents"'),
        text_edit('"A10 (24 GB PCIe)"', '"A10X (24 GB PCIe)"'),
        scale_keys({"price_cents_per_hour"}, 1000),
        empty_json({"instance-types": {"data": {}}}),
    ),
    "runpod": (
        text_edit('"securePrice"', '"secure_price"'),
        text_edit('"NVIDIA L40S"', '"NVIDIA L40X"'),
        scale_keys(
            {
                "securePrice",
                "communityPrice",
                "secureSpotPrice",
                "communitySpotPrice",
                "oneMonthPrice",
                "threeMonthPrice",
            },
            1000,
        ),
        empty_json({"graphql": {"data": {"gpuTypes": []}}}),
    ),
    "vast": (
        text_edit('"num_gpus"', '"gpus"'),
        text_edit('"RTX 4090"', '"RTX 5090 Ti"'),
        scale_keys({"dph_total", "min_bid"}, 1000),
        empty_json({"bundles/": {"offers": []}}),
    ),
    "azure": (
        text_edit('"armSkuName"', '"skuId"'),
        text_edit("Standard_NC4as_T4_v3", "Standard_NC4as_T5_v9"),
        scale_keys({"retailPrice"}, 1000),
        empty_json({"prices": {"Items": [], "NextPageLink": None}}),
    ),
    "aws": (
        text_edit('"PricePerUnit"', '"Price"'),
        None,  # the GPU comes from our family table: an unknown family is not a GPU row
        aws_absurd,
        aws_empty,
    ),
    "gcp": (
        text_edit('"serviceRegions"', '"regions"'),
        None,  # composed from a checked-in machine table
        scale_keys({"units", "nanos"}, 1000),
        empty_json({"skus": {"skus": [], "nextPageToken": ""}}),
    ),
    "oci": (
        text_edit('"gpuQty"', '"gpus"'),
        text_edit('"BM.GPU.L40S.4"', '"BM.GPU.X9.4"'),
        scale_keys({"value"}, 1000),
        empty_json({"shapes.json": {"items": []}}),
    ),
    "verda": (
        text_edit('"price_per_hour"', '"hourly"'),
        text_edit('"L40S"', '"L40X"'),
        scale_keys({"price_per_hour", "spot_price"}, 1000),
        empty_json({"instance-types": []}),
    ),
    "hyperstack": (
        text_edit('"gpu_count"', '"gpus"'),
        text_edit('"L40"', '"L40X"'),
        scale_keys({"value"}, 1000),
        empty_json({"flavors": {"status": True, "data": []}}),
    ),
    "tensordock": (
        text_edit('"price_per_hr"', '"price"'),
        text_edit('"l40-pcie-48gb"', '"l50-pcie-48gb"'),
        scale_keys({"price_per_hr"}, 1000),
        empty_json({"locations": {"data": {"locations": []}}}),
    ),
    "cudo": (
        text_edit('"gpuPriceHr"', '"gpuPrice"'),
        text_edit('"L40S"', '"L40X"'),
        scale_keys({"value"}, 1000),
        empty_json({"machine-types": {"machineTypes": []}}),
    ),
    "coreweave": (
        text_edit(">GPU Count<", ">Count of GPUs<"),
        text_edit("NVIDIA L40S", "NVIDIA L40X"),
        scale_dollars(1000),
        lambda _r, body: PRICED_ROW.sub(b"", body),
    ),
    "voltagepark": (
        text_edit("pricing-card card", "pricing-tile"),
        text_edit("H200 SXM5 141GB", "H300 SXM9 199GB"),
        scale_dollars(1000),
        lambda _r, body: OPTIONS.sub(b"<ul></ul>", body),
    ),
}
PROVIDERS = sorted(CASES)
JSON_PROVIDERS = [p for p in PROVIDERS if p not in ("coreweave", "voltagepark")]


def test_every_adapter_pulls_live_archives_and_replays_the_same(
    engine: Engine, tmp_path: Path
) -> None:
    report, _ = pull(engine, [*PROVIDERS, "nebius"], archive=tmp_path / "archive")
    assert {r.provider: r.status for r in report.results} == {
        p: "ok" for p in [*PROVIDERS, "nebius"]
    }
    assert all(r.stored > 0 for r in report.results)
    assert sum(r.stored for r in report.results) > 1000
    live = {p: active_prices(engine, p) for p in PROVIDERS}
    day = ecb_publication_day(datetime.now(UTC).date())
    assert f"ECB rates of {day.isoformat()}" in report.fx_note

    [run_dir] = (tmp_path / "archive").iterdir()
    manifest = snapshot.read_manifest(run_dir)
    assert set(manifest["providers"]) == {*PROVIDERS, "nebius", "ecb"}  # type: ignore[arg-type]
    replayed = pull_prices(
        engine,
        all_adapters(NEBIUS_TABLE),
        CATALOG,
        snapshot_dir=run_dir,
        settings=settings(),
    )
    assert all(r.status == "ok" and r.changed == 0 for r in replayed.results)
    assert {p: active_prices(engine, p) for p in PROVIDERS} == live


def test_keys_never_reach_the_archive(engine: Engine, tmp_path: Path) -> None:
    env = CREDENTIALS | {"RUNPOD_API_KEY": "rp-secret-123", "GCP_API_KEY": "gcp-secret-456"}
    pull(engine, ["runpod", "gcp", "verda"], archive=tmp_path / "a", env=env)
    import gzip

    text = b"".join(gzip.decompress(f.read_bytes()) for f in tmp_path.glob("a/*/*.json.gz"))
    assert b"rp-secret-123" not in text and b"gcp-secret-456" not in text
    assert b"fake-access-token" not in text and b'"secret"' not in text


@pytest.mark.parametrize("provider", ["azure", "gcp"])
def test_pagination_is_followed_to_the_last_page(engine: Engine, provider: str) -> None:
    report, requests = pull(engine, [provider])
    assert report.results[0].status == "ok"
    assert requests >= 3  # the fakes page at 100 items (Azure) and 25 SKUs (GCP)
    regions = {key[1] for key in active_prices(engine, provider)}
    last_page_region = {"azure": "japaneast", "gcp": "asia-northeast1"}[provider]
    assert last_page_region in regions


# Each scenario runs every adapter in one concurrent pull, as the nightly job does.
REQUESTS_PER_PULL = {
    "aws": 8,
    "azure": 7,
    "gcp": 6,
    "verda": 5,
    "vast": 24,  # one search per GPU model, and one for every other name
    "oci": 2,
    "hyperstack": 2,
}


def by_provider(report: PriceReport) -> dict[str, ProviderResult]:
    return {r.provider: r for r in report.results}


@pytest.mark.parametrize("fault", ["429", "500", "timeout"])
def test_transient_failures_are_retried_and_end_well(engine: Engine, fault: str) -> None:
    with serve_fake_apis(faults={p: [fault] for p in PROVIDERS}) as apis:
        report = pull_with(engine, apis, PROVIDERS)
        requests = {p: apis.count(p) for p in PROVIDERS}
    for provider, result in by_provider(report).items():
        assert result.status == "ok" and result.stored > 0, result
        assert requests[provider] == REQUESTS_PER_PULL.get(provider, 1) + 1, provider


def test_401_is_a_credentials_problem_not_retried(engine: Engine) -> None:
    with serve_fake_apis(faults={p: ["401"] for p in PROVIDERS}) as apis:
        report = pull_with(engine, apis, PROVIDERS)
        requests = {p: apis.count(p) for p in PROVIDERS}
    for provider, result in by_provider(report).items():
        assert result.status == "failed" and "credentials rejected" in result.message, result
        assert requests[provider] == 1, provider


@pytest.mark.parametrize("problem", ["schema", "empty", "malformed"])
def test_a_broken_answer_fails_the_provider_and_keeps_its_last_good_prices(
    engine: Engine, problem: str
) -> None:
    providers = JSON_PROVIDERS if problem == "malformed" else PROVIDERS  # HTML is lenient
    pull(engine, providers)
    before = {p: active_prices(engine, p) for p in providers}
    assert all(before.values())
    mutations = {
        p: {
            "schema": CASES[p][0],
            "empty": CASES[p][3],
            "malformed": lambda _r, body: body[: len(body) // 2],
        }[problem]
        for p in providers
    }
    report, _ = pull(engine, providers, mutate=mutations)
    expected = {
        "schema": r"lacks|no table|no pricebook|no GPU price grid|no offer card",
        "empty": r"holds no offers",
        "malformed": r"not valid JSON|lacks column",
    }[problem]
    for provider, result in by_provider(report).items():
        assert result.status == "failed", result
        assert re.search(expected, result.message), result.message
        assert active_prices(engine, provider) == before[provider], provider


def test_absurd_prices_are_quarantined_and_the_good_ones_stay(engine: Engine) -> None:
    pull(engine, PROVIDERS)
    before = {p: active_prices(engine, p) for p in PROVIDERS}
    report, _ = pull(engine, PROVIDERS, mutate={p: CASES[p][2] for p in PROVIDERS})
    table = GpuQuarantine.__table__
    for provider, result in by_provider(report).items():
        assert result.status == "ok" and result.stored == 0 and result.quarantined > 0, result
        assert active_prices(engine, provider) == before[provider], provider
        with engine.connect() as connection:
            reasons = set(
                connection.execute(
                    select(table.c.reason_code).where(table.c.provider_slug == provider)
                ).scalars()
            )
        assert "invalid" in reasons, provider  # (RunPod's A40 is unknown either way)


def test_an_unknown_gpu_name_is_quarantined_and_reported(engine: Engine) -> None:
    providers = [p for p in PROVIDERS if CASES[p][1] is not None]
    report, _ = pull(engine, providers, mutate={p: CASES[p][1] for p in providers})
    table = GpuQuarantine.__table__
    for provider, result in by_provider(report).items():
        assert result.status == "ok" and result.stored > 0, result
        assert result.unknown_gpu_names, provider
        with engine.connect() as connection:
            held = set(
                connection.execute(
                    select(table.c.raw_gpu_name).where(
                        table.c.reason_code == "unknown_gpu", table.c.provider_slug == provider
                    )
                ).scalars()
            )
        assert held >= set(result.unknown_gpu_names), provider


def test_missing_credentials_skip_only_the_providers_that_need_them(engine: Engine) -> None:
    report, _ = pull(engine, ["lambda", "gcp", "azure", "runpod"], env={})
    statuses = {r.provider: r.status for r in report.results}
    assert statuses == {"lambda": "skipped", "gcp": "skipped", "azure": "ok", "runpod": "ok"}
    skipped = {r.provider: r.message for r in report.results if r.status == "skipped"}
    assert "GCP_API_KEY" in skipped["gcp"]


def test_prices_in_euros_are_converted_with_the_days_ecb_rate(engine: Engine) -> None:
    in_euros = text_edit('"currency": "usd"', '"currency": "eur"')
    report, _ = pull(engine, ["verda"], mutate={"verda": in_euros})
    assert report.results[0].status == "ok"
    with engine.connect() as connection:
        row = connection.execute(
            select(offers_t).where(
                offers_t.c.instance_type == "1H100.80S.30V",
                offers_t.c.region_code == "FIN-01",
                offers_t.c.pricing_kind == "on_demand",
            )
        ).one()
        rates = connection.execute(select(func.count()).select_from(FxRate.__table__)).scalar()
    assert row.raw_currency == "EUR" and rates == 10
    assert row.instance_price_usd == (Decimal(row.raw_price) * Decimal("1.0812")).quantize(
        Decimal("0.000001")
    )


def test_without_a_rate_a_foreign_price_is_quarantined_not_failed(engine: Engine) -> None:
    in_francs = text_edit('"currency": "usd"', '"currency": "xof"')
    report, _ = pull(engine, ["verda"], mutate={"verda": in_francs})
    [result] = report.results
    assert result.status == "ok" and result.stored == 0 and result.quarantined == 72
    with engine.connect() as connection:
        reasons = set(connection.execute(select(GpuQuarantine.__table__.c.reason_code)).scalars())
    assert reasons == {"fx_missing"}


def test_the_nebius_table_is_checked_like_an_api_answer(tmp_path: Path) -> None:
    table = tmp_path / "nebius.toml"
    table.write_text(NEBIUS_TABLE.read_text().replace('price_per_gpu_hour = "5.50"\n', "", 1))
    adapter = NebiusAdapter(table)
    import asyncio

    responses = asyncio.run(adapter.fetch(None, {}))  # type: ignore[arg-type]
    with pytest.raises(Exception, match="lacks field 'price_per_gpu_hour'"):
        adapter.parse(responses)
    good = asyncio.run(NebiusAdapter(NEBIUS_TABLE).fetch(None, {}))  # type: ignore[arg-type]
    offers = NebiusAdapter(NEBIUS_TABLE).parse(good)
    assert offers and all(o.details["as_of"] == "2026-11-02" for o in offers)
