"""Replaying snapshots: offers upserted, one history row per offer per day, bad rows held."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, select

from site_builder.db.models import GpuOffer, GpuPriceHistory, GpuQuarantine
from site_builder.pull.gpu import PullSettings, pull_prices, snapshot
from site_builder.pull.gpu.catalog import load_catalog
from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.gpu.providers import LambdaAdapter

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = json.loads((Path(__file__).parent / "fixtures/lambda/instance-types.json").read_text())
CATALOG = load_catalog(ROOT / "data/gpu_catalog.toml")
offers_t = GpuOffer.__table__


def make_snapshot(folder: Path, body: dict, fetched_at: datetime) -> Path:
    response = RawResponse(
        "instance-types",
        "https://cloud.lambda.ai/api/v1/instance-types",
        200,
        "application/json",
        fetched_at,
        json.dumps(body),
    )
    snapshot.write_provider(folder, "lambda", [response])
    snapshot.write_manifest(folder, fetched_at.strftime("%Y%m%dT%H%M%SZ"), ["lambda"])
    return folder


def replay(engine: Engine, folder: Path):
    return pull_prices(
        engine, [LambdaAdapter()], CATALOG, snapshot_dir=folder, settings=PullSettings()
    )


def offer_row(engine: Engine, instance_type: str, region: str):
    with engine.connect() as connection:
        return connection.execute(
            select(offers_t).where(
                offers_t.c.instance_type == instance_type, offers_t.c.region_code == region
            )
        ).one()


def test_same_snapshot_twice_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    day1 = make_snapshot(tmp_path / "s1", FIXTURE, datetime(2026, 11, 20, 2, tzinfo=UTC))
    first = replay(engine, day1).results[0]
    second = replay(engine, day1).results[0]
    assert (first.stored, first.changed) == (9, 9)
    assert (second.stored, second.changed) == (9, 0)
    with engine.connect() as connection:
        assert len(connection.execute(select(GpuPriceHistory.__table__)).all()) == 9


def test_history_price_change_and_inactive_offer_across_days(
    engine: Engine, tmp_path: Path
) -> None:
    day1 = make_snapshot(tmp_path / "s1", FIXTURE, datetime(2026, 11, 20, 2, tzinfo=UTC))
    replay(engine, day1)
    body = json.loads(json.dumps(FIXTURE))
    body["data"]["gpu_8x_h100_sxm5"]["instance_type"]["price_cents_per_hour"] = 2152  # 10% cut
    body["data"]["gpu_1x_a10"]["regions_with_capacity_available"] = [
        {"name": "us-east-1", "description": "Virginia, USA"}
    ]
    day4 = make_snapshot(tmp_path / "s4", body, datetime(2026, 11, 23, 2, tzinfo=UTC))
    replay(engine, day4)

    h100 = offer_row(engine, "gpu_8x_h100_sxm5", "us-east-1")
    assert h100.price_per_gpu_usd == Decimal("2.69")
    assert h100.price_changed_at == datetime(2026, 11, 23, 2, tzinfo=UTC)
    a100 = offer_row(engine, "gpu_8x_a100_80gb_sxm4", "us-east-1")
    assert a100.price_changed_at == datetime(2026, 11, 20, 2, tzinfo=UTC)  # unchanged: lastmod kept
    tokyo = offer_row(engine, "gpu_1x_a10", "asia-northeast-1")
    assert tokyo.is_active is False  # unseen for longer than two days; its history stays
    with engine.connect() as connection:
        history = connection.execute(
            select(GpuPriceHistory.__table__.c.day, GpuPriceHistory.__table__.c.price_per_gpu_usd)
            .where(GpuPriceHistory.__table__.c.offer_id == h100.id)
            .order_by(GpuPriceHistory.__table__.c.day)
        ).all()
        tokyo_history = connection.execute(
            select(GpuPriceHistory.__table__).where(
                GpuPriceHistory.__table__.c.offer_id == tokyo.id
            )
        ).all()
    assert [(str(d), p) for d, p in history] == [
        ("2026-11-20", Decimal("2.99")),
        ("2026-11-23", Decimal("2.69")),
    ]
    assert len(tokyo_history) == 1
    with engine.connect() as connection:
        stated = connection.execute(
            select(
                GpuPriceHistory.__table__.c.stated_price,
                GpuPriceHistory.__table__.c.stated_currency,
            )
            .where(GpuPriceHistory.__table__.c.offer_id == h100.id)
            .order_by(GpuPriceHistory.__table__.c.day)
        ).all()
    # each day also keeps the price as Lambda stated it (cents per instance-hour, parsed)
    assert [(p, c) for p, c in stated] == [
        (Decimal("23.92"), "USD"),
        (Decimal("21.52"), "USD"),
    ]


def test_unknown_gpu_is_quarantined_and_reported_not_published(
    engine: Engine, tmp_path: Path
) -> None:
    body = json.loads(json.dumps(FIXTURE))
    body["data"]["gpu_1x_a10"]["instance_type"]["gpu_description"] = "A10X (24 GB PCIe)"
    result = replay(
        engine, make_snapshot(tmp_path / "s", body, datetime(2026, 11, 20, tzinfo=UTC))
    ).results[0]
    assert result.status == "ok"
    assert result.quarantined == 3 and result.stored == 6
    assert result.unknown_gpu_names == ["A10X (24 GB PCIe)"]
    with engine.connect() as connection:
        held = connection.execute(select(GpuQuarantine.__table__)).all()
        published = connection.execute(
            select(offers_t.c.id).where(offers_t.c.instance_type == "gpu_1x_a10")
        ).all()
    assert {h.reason_code for h in held} == {"unknown_gpu"}
    assert held[0].payload["raw_gpu_name"] == "A10X (24 GB PCIe)"
    assert held[0].payload["price"] == "0.75"
    assert published == []


def test_a_broken_snapshot_fails_the_provider_and_keeps_its_last_good_prices(
    engine: Engine, tmp_path: Path
) -> None:
    replay(engine, make_snapshot(tmp_path / "good", FIXTURE, datetime(2026, 11, 20, tzinfo=UTC)))
    broken = make_snapshot(
        tmp_path / "bad", {"data": {"gpu_1x_a10": {}}}, datetime(2026, 11, 21, tzinfo=UTC)
    )
    result = replay(engine, broken).results[0]
    assert result.status == "failed"
    assert "lacks field" in result.message
    assert offer_row(engine, "gpu_8x_h100_sxm5", "us-east-1").is_active is True


def _with_h100_price(cents: int) -> dict:
    body = json.loads(json.dumps(FIXTURE))
    body["data"]["gpu_8x_h100_sxm5"]["instance_type"]["price_cents_per_hour"] = cents
    return body


def _quarantine_rows(engine: Engine) -> list:
    table = GpuQuarantine.__table__
    with engine.connect() as connection:
        return connection.execute(select(table).order_by(table.c.id)).all()


def test_three_snapshots_history_inactive_and_an_anomaly_held_then_confirmed(
    engine: Engine, tmp_path: Path
) -> None:
    days = [datetime(2026, 11, d, 2, tzinfo=UTC) for d in (20, 21, 23)]
    replay(engine, make_snapshot(tmp_path / "d1", FIXTURE, days[0]))
    jump = _with_h100_price(3827)  # +60% on the 8x H100 in its three regions
    del jump["data"]["gpu_1x_rtx6000"]  # no longer listed

    second = replay(engine, make_snapshot(tmp_path / "d2", jump, days[1])).results[0]
    assert second.status == "ok" and second.held == 3 and second.confirmed == 0
    h100 = offer_row(engine, "gpu_8x_h100_sxm5", "us-east-1")
    assert h100.price_per_gpu_usd == Decimal("2.99")  # the last accepted price stays published
    held = [r for r in _quarantine_rows(engine) if r.reason_code == "anomaly"]
    assert len(held) == 3 and {r.status for r in held} == {"pending"}
    assert "+60%" in held[0].reason and held[0].payload["price_per_gpu_usd"] == "4.78375"

    third = replay(engine, make_snapshot(tmp_path / "d3", jump, days[2])).results[0]
    assert third.held == 0 and third.confirmed == 3
    h100 = offer_row(engine, "gpu_8x_h100_sxm5", "us-east-1")
    assert h100.price_per_gpu_usd == Decimal("4.78375")
    assert {r.status for r in _quarantine_rows(engine) if r.reason_code == "anomaly"} == {
        "accepted"
    }
    rtx = offer_row(engine, "gpu_1x_rtx6000", "any")
    assert rtx.is_active is False  # unseen for over two days: inactive, history kept
    with engine.connect() as connection:
        history = connection.execute(
            select(GpuPriceHistory.__table__.c.day, GpuPriceHistory.__table__.c.price_per_gpu_usd)
            .where(GpuPriceHistory.__table__.c.offer_id == h100.id)
            .order_by(GpuPriceHistory.__table__.c.day)
        ).all()
    # one row a day; the held day has none, since nothing was published that day
    assert [(str(d), p) for d, p in history] == [
        ("2026-11-20", Decimal("2.99")),
        ("2026-11-23", Decimal("4.78375")),
    ]


def test_an_editor_accepts_or_rejects_a_held_price(engine: Engine, tmp_path: Path) -> None:
    from site_builder.pull.gpu import quarantine

    replay(engine, make_snapshot(tmp_path / "d1", FIXTURE, datetime(2026, 11, 20, tzinfo=UTC)))
    cut = _with_h100_price(800)  # -67%
    replay(engine, make_snapshot(tmp_path / "d2", cut, datetime(2026, 11, 21, tzinfo=UTC)))
    east, south, middle_east = (r.id for r in _quarantine_rows(engine))
    now = datetime(2026, 11, 21, 9, tzinfo=UTC)
    with engine.begin() as connection:
        quarantine.accept(connection, east, now=now)
        quarantine.reject(connection, south, now=now)
    assert offer_row(engine, "gpu_8x_h100_sxm5", "us-east-1").price_per_gpu_usd == Decimal("1")
    assert offer_row(engine, "gpu_8x_h100_sxm5", "us-south-1").price_per_gpu_usd == Decimal("2.99")
    with engine.begin() as connection:
        try:
            quarantine.accept(connection, east, now=now)
        except Exception as exc:
            assert "already accepted" in str(exc)
        else:  # pragma: no cover
            raise AssertionError("accepting twice should fail")

    # The same value again: the rejected one is not raised again, the pending one confirms.
    result = replay(
        engine, make_snapshot(tmp_path / "d3", cut, datetime(2026, 11, 22, tzinfo=UTC))
    ).results[0]
    assert result.confirmed == 1 and result.held == 1
    rows = {r.id: r for r in _quarantine_rows(engine)}
    assert len(rows) == 3
    assert rows[middle_east].status == "accepted" and rows[south].status == "rejected"
    assert offer_row(engine, "gpu_8x_h100_sxm5", "us-south-1").price_per_gpu_usd == Decimal("2.99")


def test_unknown_gpu_rows_are_not_repeated_night_after_night(
    engine: Engine, tmp_path: Path
) -> None:
    body = json.loads(json.dumps(FIXTURE))
    body["data"]["gpu_1x_a10"]["instance_type"]["gpu_description"] = "A10X (24 GB PCIe)"
    for day in (20, 21):
        folder = tmp_path / f"d{day}"
        replay(engine, make_snapshot(folder, body, datetime(2026, 11, day, tzinfo=UTC)))
    rows = _quarantine_rows(engine)
    assert len(rows) == 3 and {r.status for r in rows} == {"pending"}


def test_instance_sizes_are_stored_in_published_units(engine: Engine, tmp_path: Path) -> None:
    """Lambda states RAM and disk in GiB: RAM is kept as stated, the disk converted to
    decimal GB (22,000 GiB = 23,622.3 GB, what a reader compares with a "23.6 TB" disk)."""
    replay(engine, make_snapshot(tmp_path / "s", FIXTURE, datetime(2026, 11, 20, tzinfo=UTC)))
    h100 = offer_row(engine, "gpu_8x_h100_sxm5", "us-east-1")
    assert (h100.vcpus, h100.memory_gb, h100.storage_gb) == (208, 1800, 23622.3)
    assert "dropped_specs" not in h100.details


def test_a_size_that_is_not_a_positive_number_is_dropped_and_the_price_kept(
    engine: Engine, tmp_path: Path
) -> None:
    body = json.loads(json.dumps(FIXTURE))
    specs = body["data"]["gpu_8x_h100_sxm5"]["instance_type"]["specs"]
    specs |= {"vcpus": -208, "memory_gib": "lots", "storage_gib": "22 TB"}
    body["data"]["gpu_1x_a10"]["instance_type"]["specs"] |= {"vcpus": 30.5, "storage_gib": 0}
    replay(engine, make_snapshot(tmp_path / "s", body, datetime(2026, 11, 20, tzinfo=UTC)))

    h100 = offer_row(engine, "gpu_8x_h100_sxm5", "us-east-1")
    assert h100.price_per_gpu_usd == Decimal("2.99")  # the price is published all the same
    assert (h100.vcpus, h100.memory_gb, h100.storage_gb) == (None, None, None)
    assert h100.details["dropped_specs"] == {
        "vcpus": "-208 is negative",
        "memory_gb": "'lots' is not a number",
        "storage_gb": "'22 TB' is not a number",
    }
    a10 = offer_row(engine, "gpu_1x_a10", "us-east-1")
    assert (a10.vcpus, a10.memory_gb, a10.storage_gb) == (None, 200, None)
    # 0 GB of disk is how APIs say "none stated": not stored, and not a problem either
    assert a10.details["dropped_specs"] == {"vcpus": "30.5 is not a whole number of vCPUs"}
