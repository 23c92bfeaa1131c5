"""The Lambda adapter: fetch over real HTTP, pure parse of the recorded response."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from site_builder.db.models import GpuOffer, GpuPullRun
from site_builder.errors import DataError
from site_builder.pull.gpu import PullSettings, pull_prices
from site_builder.pull.gpu.catalog import load_catalog
from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.gpu.providers import LambdaAdapter
from tests.local_http import serve

OFFLINE = PullSettings(ecb_url=None)  # these tests pull from local servers only
FIXTURE = Path(__file__).parent / "fixtures" / "lambda" / "instance-types.json"
ROOT = Path(__file__).resolve().parent.parent
FETCHED = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


def raw(body: str) -> list[RawResponse]:
    return [
        RawResponse(
            "instance-types",
            "https://cloud.lambda.ai/api/v1/instance-types",
            200,
            "application/json",
            FETCHED,
            body,
        )
    ]


def offers_by_key(body: str) -> dict[str, object]:
    return {o.key: o for o in LambdaAdapter().parse(raw(body))}


def test_prices_in_cents_become_decimal_usd_per_instance() -> None:
    offers = offers_by_key(FIXTURE.read_text())
    h100 = offers["lambda/gpu_8x_h100_sxm5/us-east-1/on_demand"]
    assert h100.price == Decimal("23.92")
    assert h100.price_basis == "instance"
    assert h100.gpu_count == 8
    assert h100.raw_price == "2392"
    assert h100.raw_unit == "USD cents / instance-hour"
    assert h100.raw_gpu_name == "H100 (80 GB SXM5)"
    assert h100.observed_at == FETCHED


def test_one_offer_per_region_with_capacity() -> None:
    offers = offers_by_key(FIXTURE.read_text())
    a10 = sorted(k for k in offers if k.startswith("lambda/gpu_1x_a10/"))
    assert a10 == [
        "lambda/gpu_1x_a10/asia-northeast-1/on_demand",
        "lambda/gpu_1x_a10/us-east-1/on_demand",
        "lambda/gpu_1x_a10/us-west-1/on_demand",
    ]
    assert all(offers[k].available is True for k in a10)
    assert offers["lambda/gpu_1x_a10/us-east-1/on_demand"].region_name == "Virginia, USA"


def test_sold_out_type_keeps_its_price_as_unavailable() -> None:
    offers = offers_by_key(FIXTURE.read_text())
    sold_out = offers["lambda/gpu_1x_rtx6000/any/on_demand"]
    assert sold_out.available is False
    assert sold_out.price == Decimal("0.50")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"error": {"code": "global/invalid-api-key"}}', "no 'data' object"),
        ('{"data": {"gpu_1x_a10": {"instance_type": {"name": "gpu_1x_a10"}}}}', "lacks field"),
        (
            json.dumps(
                {
                    "data": {
                        "gpu_1x_a10": {
                            "instance_type": {
                                "name": "gpu_1x_a10",
                                "gpu_description": "A10 (24 GB PCIe)",
                                "price_cents_per_hour": "75",
                                "specs": {"gpus": 1, "vcpus": 30, "memory_gib": 200},
                            },
                            "regions_with_capacity_available": [],
                        }
                    }
                }
            ),
            "should be an integer",
        ),
    ],
)
def test_broken_responses_fail_clearly(body: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        LambdaAdapter().parse(raw(body))


def test_live_pull_over_http_stores_offers_and_archives_the_response(
    engine: Engine, tmp_path: Path
) -> None:
    body = FIXTURE.read_bytes()

    def instance_types(request):
        if request.headers.get("Authorization") != "Bearer secret-key":
            return 401, {"Content-Type": "application/json"}, b'{"error": "unauthorized"}'
        return 200, {"Content-Type": "application/json"}, body

    with serve({"/api/v1/instance-types": instance_types}) as server:
        adapter = LambdaAdapter(base_url=server.base_url)
        report = pull_prices(
            engine,
            [adapter],
            load_catalog(ROOT / "data/gpu_catalog.toml"),
            archive_root=tmp_path / "archive",
            env={"LAMBDA_API_KEY": "secret-key"},
            settings=OFFLINE,
        )
    [result] = report.results
    assert result.status == "ok"
    assert result.stored == 9  # 3 A10 + 3 H100 + 2 A100 regions, 1 sold-out RTX 6000
    archived = list((tmp_path / "archive").glob("*/lambda.json.gz"))
    assert len(archived) == 1
    with engine.connect() as connection:
        prices = (
            connection.execute(
                select(GpuOffer.__table__.c.price_per_gpu_usd).where(
                    GpuOffer.__table__.c.instance_type == "gpu_8x_h100_sxm5"
                )
            )
            .scalars()
            .all()
        )
    assert prices and set(prices) == {Decimal("2.99")}


def test_rejected_key_fails_the_provider_not_the_pull(engine: Engine) -> None:
    with serve({"/api/v1/instance-types": lambda r: (401, {}, b"{}")}) as server:
        adapter = LambdaAdapter(base_url=server.base_url)
        report = pull_prices(
            engine,
            [adapter],
            load_catalog(ROOT / "data/gpu_catalog.toml"),
            env={"LAMBDA_API_KEY": "wrong"},
            settings=OFFLINE,
        )
    [result] = report.results
    assert result.status == "failed"
    assert "HTTP 401" in result.message and "credentials rejected" in result.message
    with engine.connect() as connection:
        run = connection.execute(select(GpuPullRun.__table__)).one()
    assert run.status == "failed" and "401" in run.error


def test_missing_key_skips_the_provider_without_a_request(engine: Engine) -> None:
    with serve({}) as server:
        adapter = LambdaAdapter(base_url=server.base_url)
        report = pull_prices(
            engine,
            [adapter],
            load_catalog(ROOT / "data/gpu_catalog.toml"),
            env={},
            settings=OFFLINE,
        )
        assert server.requests == []
    [result] = report.results
    assert result.status == "skipped"
    assert "LAMBDA_API_KEY" in result.message
