"""Rollups, heartbeats, status, retirement and editor flags, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from site_builder.db.models import (
    VpnMeasurementDaily,
    VpnMeasurementHourly,
    VpnProviderCountryDaily,
    VpnServer,
    VpnServerProbeLatest,
    VpnServerUptimeDaily,
)
from site_builder.pull.measurements import pull_measurements
from site_builder.pull.measurements.batch import sign
from site_builder.pull.measurements.rollups import percentile
from site_builder.pull.measurements.status import uptime

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"fra": b"fra-test-secret", "nyc": b"nyc-test-secret"}
SERVER = {
    "provider": "mullvad",
    "provider_name": "Mullvad",
    "hostname": "de-fra-wg-001.mullvad.example",
    "ip": "198.51.100.10",
    "country": "DE",
    "city": "Frankfurt",
}
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def measurement(
    n: int,
    at: datetime,
    latency: float,
    down: int,
    *,
    probe="fra",
    ok=True,
    server=SERVER,
    protocol="wireguard",
) -> dict:
    record = {
        "kind": "measurement",
        "id": f"{probe}-{n:05d}",
        "probe": probe,
        "server": server,
        "protocol": protocol,
        "started_at": iso(at),
    }
    if not ok:
        return record | {"connect": {"success": False, "error": "handshake timeout"}}
    return record | {
        "connect": {"success": True},
        "latency": {"median_ms": latency, "jitter_ms": 1.0},
        "download": {"bytes": down * 10, "duration_ms": 10000, "bytes_per_s": down},
        "upload": {"bytes": down * 5, "duration_ms": 10000, "bytes_per_s": down // 2},
    }


def heartbeat(at: datetime, server=SERVER) -> dict:
    return {
        "kind": "heartbeat",
        "server": server,
        "at": iso(at),
        "cpu_pct": 20.0,
        "ram_pct": 40.0,
        "net_pct": 10.0,
        "services": {"wg": True},
    }


def write(folder: Path, name: str, records: list[dict], probe: str = "fra") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    header = {"kind": "batch", "version": 1, "probe": probe, "created_at": iso(T0)}
    data = "".join(json.dumps(r) + "\n" for r in [header, *records]).encode()
    (folder / name).write_bytes(data)
    (folder / f"{name}.sig").write_bytes(sign(data, probe, KEYS[probe]))


def ingest(engine: Engine, folder: Path, now: datetime, flags: Path | None = None):
    return pull_measurements(
        engine,
        folder,
        keys=KEYS,
        reference_file=ROOT / "data/vpn/reference.toml",
        flags_file=flags,
        now=now,
    )


def one(engine: Engine, table, **where):
    with engine.connect() as connection:
        statement = select(table)
        for column, value in where.items():
            statement = statement.where(table.c[column] == value)
        return connection.execute(statement).one()


def test_percentile_is_linear_between_closest_ranks() -> None:
    assert percentile([10.0], 0.1) == 10.0
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 0.5) == 30.0
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 0.1) == pytest.approx(14.0)
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 0.9) == pytest.approx(46.0)
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5


def test_hourly_and_daily_rollups_match_a_hand_computed_case(
    engine: Engine, tmp_path: Path
) -> None:
    # Five runs in one hour: latencies 10..50 ms, downloads 100..500; one more failed run.
    runs = [
        measurement(n, T0 + timedelta(minutes=5 * n), 10.0 * (n + 1), 100 * (n + 1))
        for n in range(5)
    ]
    runs.append(measurement(9, T0 + timedelta(minutes=40), 0, 0, ok=False))
    later = [measurement(20, T0 + timedelta(hours=3), 70.0, 700)]  # same day, another hour
    write(tmp_path / "in", "a.ndjson", runs + later)
    ingest(engine, tmp_path / "in", now=T0 + timedelta(days=1))
    hourly = one(engine, VpnMeasurementHourly.__table__, hour=T0)
    assert (hourly.runs, hourly.successes) == (6, 5)
    assert hourly.latency_median_ms == 30.0
    assert hourly.latency_p10_ms == pytest.approx(14.0) and hourly.latency_p90_ms == pytest.approx(
        46.0
    )
    assert (hourly.download_p10_bps, hourly.download_median_bps, hourly.download_p90_bps) == (
        140,
        300,
        460,
    )
    daily = one(engine, VpnMeasurementDaily.__table__, day=date(2026, 11, 20))
    assert (daily.runs, daily.successes) == (7, 6)
    assert daily.latency_median_ms == 35.0  # median of 10, 20, 30, 40, 50, 70
    country = one(
        engine, VpnProviderCountryDaily.__table__, provider_slug="mullvad", country_code="DE"
    )
    assert (country.servers, country.runs, country.latency_median_ms) == (1, 7, 35.0)
    latest = one(engine, VpnServerProbeLatest.__table__, probe_id="fra")
    assert latest.measurement_id == "fra-00020" and latest.download_bps == 700


def test_a_new_batch_recomputes_only_the_hours_it_touched(engine: Engine, tmp_path: Path) -> None:
    write(
        tmp_path / "in",
        "a.ndjson",
        [measurement(1, T0, 10.0, 100), measurement(2, T0 + timedelta(hours=5), 20.0, 200)],
    )
    ingest(engine, tmp_path / "in", now=T0 + timedelta(days=1))
    write(tmp_path / "in2", "b.ndjson", [measurement(3, T0 + timedelta(minutes=30), 30.0, 300)])
    ingest(engine, tmp_path / "in2", now=T0 + timedelta(days=1))
    assert (
        one(engine, VpnMeasurementHourly.__table__, hour=T0).latency_median_ms == 20.0
    )  # 10 and 30
    assert one(engine, VpnMeasurementHourly.__table__, hour=T0 + timedelta(hours=5)).runs == 1
    assert one(engine, VpnMeasurementDaily.__table__, day=date(2026, 11, 20)).runs == 3
    # an older re-send from another probe batch does not replace the latest run
    write(tmp_path / "in3", "c.ndjson", [measurement(4, T0 - timedelta(hours=1), 99.0, 999)])
    ingest(engine, tmp_path / "in3", now=T0 + timedelta(days=1))
    assert one(engine, VpnServerProbeLatest.__table__, probe_id="fra").measurement_id == "fra-00002"


def test_uptime_counts_four_minutes_after_each_heartbeat() -> None:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    end = start + timedelta(hours=1)
    beats = [start + timedelta(minutes=m) for m in range(0, 60, 2)]
    assert uptime(beats, start, end) == (100.0, 0)
    gap = [b for b in beats if not (timedelta(minutes=10) < b - start < timedelta(minutes=30))]
    # beats at 10 and 30: covered 10-14, down 14-30 = 16 minutes
    assert uptime(gap, start, end) == (pytest.approx(100 * 44 / 60, abs=0.001), 16)
    assert uptime([], start, end) == (0.0, 60)


def test_a_heartbeat_gap_turns_a_server_down(engine: Engine, tmp_path: Path) -> None:
    day = datetime(2026, 11, 20, tzinfo=UTC)
    beats = [
        heartbeat(day + timedelta(minutes=m)) for m in range(0, 24 * 60, 2) if not 600 <= m < 660
    ]  # silent from 10:00 to 11:00
    write(tmp_path / "in", "hb.ndjson", [*beats, measurement(1, day + timedelta(hours=1), 10, 100)])
    ingest(engine, tmp_path / "in", now=day + timedelta(days=1, minutes=1))
    row = one(engine, VpnServerUptimeDaily.__table__, day=date(2026, 11, 20))
    assert row.down_minutes == 58  # the 09:58 beat covers until 10:02
    assert row.uptime_pct == pytest.approx(100 * (1440 - 58) / 1440, abs=0.001)
    assert one(engine, VpnServer.__table__).status == "active"  # last beat 23:58, as of 00:01
    write(
        tmp_path / "later", "x.ndjson", [measurement(2, day + timedelta(days=1, hours=2), 10, 100)]
    )
    ingest(engine, tmp_path / "later", now=day + timedelta(days=1, hours=3))
    assert one(engine, VpnServer.__table__).status == "down"


def test_silent_servers_retire_after_30_days_unless_static(engine: Engine, tmp_path: Path) -> None:
    other = SERVER | {
        "hostname": "se-stockholm-05.mullvad.example",
        "country": "SE",
        "city": "Stockholm",
    }
    write(
        tmp_path / "in",
        "a.ndjson",
        [measurement(1, T0, 10, 100), measurement(2, T0, 10, 100, server=other)],
    )
    flags = tmp_path / "flags.toml"
    flags.write_text(
        '[[server]]\nprovider = "mullvad"\n'
        'hostname = "se-stockholm-05.mullvad.example"\nstatic = true\n'
    )
    ingest(engine, tmp_path / "in", now=T0 + timedelta(days=29), flags=flags)
    assert one(engine, VpnServer.__table__, hostname=SERVER["hostname"]).status != "retired"
    report = ingest(engine, tmp_path / "in", now=T0 + timedelta(days=31), flags=flags)
    assert report.status_changes["retired"] == 1
    retired = one(engine, VpnServer.__table__, hostname=SERVER["hostname"])
    assert retired.status == "retired" and retired.retired_at == T0 + timedelta(days=31)
    assert one(engine, VpnServer.__table__, hostname=other["hostname"]).status != "retired"
    write(tmp_path / "back", "b.ndjson", [measurement(3, T0 + timedelta(days=32), 10, 100)])
    ingest(engine, tmp_path / "back", now=T0 + timedelta(days=32), flags=flags)
    assert one(engine, VpnServer.__table__, hostname=SERVER["hostname"]).status != "retired"


def test_editor_flags_win_and_a_late_old_batch_does_not_rewind_last_seen(
    engine: Engine, tmp_path: Path
) -> None:
    write(tmp_path / "in", "a.ndjson", [measurement(1, T0, 10, 100)])
    flags = tmp_path / "flags.toml"
    flags.write_text(
        '[[server]]\nprovider = "mullvad"\nhostname = "DE-FRA-WG-001.mullvad.example"\n'
        "streaming = true\nenabled = false\n\n"
        '[[server]]\nprovider = "nope"\nhostname = "ghost.example"\n'
    )
    report = ingest(engine, tmp_path / "in", now=T0 + timedelta(hours=1), flags=flags)
    assert report.unmatched_flags == ["nope/ghost.example"]
    server = one(engine, VpnServer.__table__)
    assert (server.streaming, server.enabled, server.paid, server.gaming) == (
        True,
        False,
        True,
        False,
    )
    write(tmp_path / "old", "b.ndjson", [measurement(5, T0 - timedelta(days=3), 10, 100)])
    ingest(engine, tmp_path / "old", now=T0 + timedelta(hours=2), flags=flags)
    server = one(engine, VpnServer.__table__)
    assert server.last_seen_at == T0 and server.streaming is True


def test_db_maintain_purges_old_raw_rows_and_keeps_rollups(engine: Engine, tmp_path: Path) -> None:
    from sqlalchemy import func

    from site_builder.db.maintain import purge_raw
    from site_builder.db.models import VpnHeartbeat, VpnMeasurement

    old, recent = T0 - timedelta(days=100), T0 - timedelta(days=1)
    write(
        tmp_path / "in",
        "a.ndjson",
        [
            measurement(1, old, 10, 100),
            measurement(2, recent, 20, 200),
            heartbeat(old),
            heartbeat(recent),
        ],
    )
    ingest(engine, tmp_path / "in", now=T0)
    removed = purge_raw(engine, keep_days=90, now=T0)
    assert removed["vpn_measurements"] == 1 and removed["vpn_heartbeats"] == 1
    with engine.connect() as connection:
        remaining = connection.execute(select(VpnMeasurement.__table__.c.id)).scalars().all()
        beats = connection.execute(
            select(func.count()).select_from(VpnHeartbeat.__table__)
        ).scalar_one()
        rollup_days = (
            connection.execute(select(VpnMeasurementDaily.__table__.c.day)).scalars().all()
        )
    assert remaining == ["fra-00002"] and beats == 1
    assert sorted(rollup_days) == [old.date(), recent.date()]  # rollups outlive raw rows
    assert purge_raw(engine, keep_days=90, now=T0) == {
        "vpn_measurements": 0,
        "vpn_streaming_checks": 0,
        "vpn_heartbeats": 0,
    }
