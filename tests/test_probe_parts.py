"""The probe's parts that need no namespace: the LibreSpeed-protocol speed server and the
client that measures against it (on loopback), latency figures, the streaming rules and the
checked-in rules file, secrets, and `probe plan` against a real store."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from site_builder.errors import ConfigError
from site_builder.probe.config import ProbeConfig, Target, probe_key, secret
from site_builder.probe.latency import summary
from site_builder.probe.measure import transfer
from site_builder.probe.plan import make_plan
from site_builder.probe.run import build_batch, validate
from site_builder.probe.speedserver import make_server
from site_builder.probe.streaming import Check, Rule, classify, load_checks
from site_builder.pull.measurements import pull_measurements
from site_builder.pull.measurements.batch import sign
from site_builder.pull.measurements.reference import load_reference

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "data/vpn/reference.toml"
MIB = 1048576


@pytest.fixture(scope="module")
def speed() -> Iterator[str]:
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_the_speed_server_speaks_librespeeds_backend_protocol(speed: str) -> None:
    with httpx.Client(base_url=speed, timeout=10) as client:
        garbage = client.get("garbage.php", params={"ckSize": "2", "r": "0.5"})
        assert garbage.status_code == 200 and len(garbage.content) == 2 * MIB
        assert garbage.headers["content-type"] == "application/octet-stream"
        assert "no-store" in garbage.headers["cache-control"]
        assert len(set(garbage.content[:4096])) > 200  # random, not compressible
        for asked, chunks in (("0", 4), ("abc", 4), ("5000", 1024)):  # garbage.php's rules
            with client.stream("GET", "backend/garbage.php", params={"ckSize": asked}) as r:
                assert int(r.headers["content-length"]) == chunks * MIB
        upload = client.post("empty.php", content=b"x" * 300_000, params={"cors": ""})
        assert upload.status_code == 200 and upload.content == b""
        assert upload.headers["access-control-allow-origin"] == "*"
        ip = client.get("getIP.php", headers={"X-Forwarded-For": "203.0.113.9"})
        assert ip.text == "127.0.0.1"  # the socket's peer, never a header
        assert client.get("nothing.php").status_code == 404


def test_the_client_counts_only_the_measured_window(speed: str) -> None:
    for direction in ("download", "upload"):
        args = argparse.Namespace(
            url=speed, step=direction, streams=2, warmup=0.3, duration=0.7, chunk_mib=4
        )
        result = transfer(args)
        assert result["bytes"] > 0 and 650 <= result["duration_ms"] <= 900
        assert result["bytes_per_s"] == pytest.approx(
            result["bytes"] / (result["duration_ms"] / 1000), rel=0.01
        )


def test_latency_figures_follow_their_stated_definitions() -> None:
    figures = summary([10.0, 14.0, 12.0, 12.0], sent=5)
    assert figures.median_ms == 12.0
    assert figures.jitter_ms == pytest.approx((4 + 2 + 0) / 3)  # mean |successive difference|
    assert figures.loss == pytest.approx(0.2)
    assert summary([], sent=3).loss == 1.0 and summary([], sent=3).median_ms is None


def test_streaming_rules_classify_in_order_and_say_error_otherwise() -> None:
    check = Check(
        "netflix",
        "US",
        "https://example.invalid/",
        (
            Rule("blocked", (403,)),
            Rule("originals_only", (404,)),
            Rule("blocked", (200,), body_contains="geolocation"),
            Rule("unblocked", (200, 302), location_contains=None),
        ),
    )
    assert classify(check, {"status": 200, "body": "<html>"}) == "unblocked"
    assert classify(check, {"status": 200, "body": '{"geolocation"}'}) == "blocked"
    assert classify(check, {"status": 404, "body": ""}) == "originals_only"
    assert classify(check, {"status": 500, "body": ""}) == "error"
    assert classify(check, {"error": "dns: no such host"}) == "error"


def test_the_checked_in_streaming_checks_name_known_platforms_and_regions() -> None:
    reference = load_reference(REFERENCE)
    platforms = {p["slug"] for p in reference["platform"]}
    checks = load_checks(ROOT / "data/vpn/streaming_checks.toml")
    assert checks and all(c.platform in platforms and c.rules for c in checks)
    assert len({(c.platform, c.region) for c in checks}) == len(checks)  # one per pair


def test_secrets_come_from_the_folder_or_the_environment(tmp_path: Path) -> None:
    (tmp_path / "wg-a").write_text("folder-key\n")
    config = ProbeConfig(id="fra", spool=tmp_path / "spool", secrets=tmp_path)
    assert secret(config, "wg-a", {}) == "folder-key"
    assert secret(config, "ovpn-b", {"SITE_BUILDER_SECRET_OVPN_B": "u\np"}) == "u\np"
    with pytest.raises(ConfigError, match="no secret 'missing'"):
        secret(config, "missing", {})
    with pytest.raises(ConfigError, match="no probe key"):
        probe_key(config, {})
    assert probe_key(config, {"SITE_BUILDER_PROBE_KEY": "k"}) == b"k"


def _measurement(host: str, at: datetime, index: int) -> dict[str, object]:
    return {
        "kind": "measurement",
        "id": f"fra-plan-{index}",
        "probe": "fra",
        "server": {"provider": "testvpn", "hostname": host, "ip": "198.51.100.7", "country": "DE"},
        "protocol": "wireguard",
        "started_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "connect": {"success": True},
        "latency": {"samples_ms": [20.0, 21.0]},
    }


def _target(host: str) -> Target:
    return Target(
        provider="testvpn",
        hostname=host,
        ip="198.51.100.7",
        country="DE",
        protocol="wireguard",
        profile=Path("x.conf"),
        secret="wg",
    )


def test_the_plan_takes_due_servers_first_and_keeps_to_the_budget(
    engine: Engine, tmp_path: Path
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    records = [
        _measurement("old.example", now - timedelta(days=10), 1),
        _measurement("older.example", now - timedelta(days=20), 2),
        _measurement("fresh.example", now - timedelta(days=1), 3),
        _measurement("untargeted.example", now - timedelta(days=9), 4),
    ]
    data = build_batch("fra", now, records)
    validate("plan.ndjson", data, "fra", REFERENCE)  # what the probe spools, the pull takes
    (tmp_path / "b.ndjson").write_bytes(data)
    (tmp_path / "b.ndjson.sig").write_bytes(sign(data, "fra", b"k"))
    pull_measurements(engine, tmp_path, keys={"fra": b"k"}, reference_file=REFERENCE, now=now)

    targets = [_target(h) for h in ("old.example", "older.example", "fresh.example")]
    plan = make_plan(engine, "fra", targets, every_days=7, budget_s=600, per_server_s=60, now=now)
    assert [s.hostname for s in plan.servers] == ["older.example", "old.example"]
    assert plan.not_due == 1 and plan.without_target == [("testvpn", "untargeted.example")]
    tight = make_plan(engine, "fra", targets, every_days=7, budget_s=60, per_server_s=60, now=now)
    assert [s.hostname for s in tight.servers] == ["older.example"] and tight.over_budget == 1
    other_probe = make_plan(engine, "lon", targets, every_days=7, now=now)
    assert len(other_probe.servers) == 3  # never measured from London: all due
