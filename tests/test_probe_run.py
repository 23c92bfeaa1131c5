"""`probe run` end to end through real tunnels in namespaces the test makes: WireGuard
(wireguard-go), OpenVPN over UDP and TCP (a real server with a throwaway PKI), a
LibreSpeed-protocol speed server and fake streaming pages behind them. Failures become
records, never crashes; a run that dies spools nothing and its namespaces go at the next
start; the batch passes the ingest's own checks and signature."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from probe_net import OVPN_PASSWORD, OVPN_USER, ProbeNet, usable

from site_builder.probe import netns
from site_builder.probe.config import load_config
from site_builder.probe.run import run_probe, step
from site_builder.probe.spool import pending
from site_builder.pull.measurements.batch import verify

pytestmark = pytest.mark.skipif(usable() is not None, reason=usable() or "")
PROBE_KEY = "probe-test-key-not-secret"
FAKE = "http://10.66.0.1:8081"
CHECKS = f"""
[[check]]
platform = "netflix"
region = "US"
url = "{FAKE}/title/licensed"
  [[check.rule]]
  status = 403
  result = "blocked"
  [[check.rule]]
  status = 404
  result = "originals_only"
  [[check.rule]]
  status = 200
  result = "unblocked"
[[check]]
platform = "netflix"
region = "GB"
url = "{FAKE}/title/missing"
  [[check.rule]]
  status = 404
  result = "originals_only"
[[check]]
platform = "bbc-iplayer"
region = "GB"
url = "{FAKE}/geo"
  [[check.rule]]
  body_contains = "geolocation"
  result = "blocked"
[[check]]
platform = "hulu"
region = "US"
url = "{FAKE}/hang"
  [[check.rule]]
  status = 200
  result = "unblocked"
"""


@pytest.fixture(scope="module")
def net() -> Iterator[ProbeNet]:
    network = ProbeNet(tag=f"{os.getpid() % 10000}r").start()
    network.relay("wg", 51821, 51820, rtt_ms=20)
    network.relay("ovpn", 1195, 1194, rtt_ms=20)
    try:
        yield network
    finally:
        network.close()


def _target(hostname: str, protocol: str, profile: Path, secret: str, **extra: object) -> str:
    lines = [
        "[[target]]",
        'provider = "testvpn"',
        f'hostname = "{hostname}"',
        'ip = "198.51.100.7"',
        'country = "DE"',
        'city = "Frankfurt"',
        f'protocol = "{protocol}"',
        f'profile = "{profile}"',
        f'secret = "{secret}"',
    ]
    lines += [f"{key} = {json.dumps(value)}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def _config(net: ProbeNet, folder: Path, targets: str, **steps: float) -> Path:
    secrets = folder / "secrets"
    secrets.mkdir(exist_ok=True)
    (secrets / "probe.key").write_text(PROBE_KEY)
    (secrets / "wg").write_text(net.wg_client_private)
    (secrets / "wg-wrong").write_text(
        subprocess.run(["wg", "genkey"], capture_output=True, text=True).stdout
    )
    (secrets / "ovpn").write_text(f"{OVPN_USER}\n{OVPN_PASSWORD}\n")
    (secrets / "ovpn-wrong").write_text(f"{OVPN_USER}\nnot-the-password\n")
    (folder / "checks.toml").write_text(CHECKS)
    settings = {
        "connect_timeout_s": 4,
        "latency_count": 10,
        "latency_interval_s": 0.05,
        "transfer_seconds": 1.5,
        "download_warmup_s": 0.5,
        "upload_warmup_s": 0.5,
        "streams": 2,
        "fetch_timeout_s": 1,
        **steps,
    }
    config = folder / "probe.toml"
    config.write_text(
        f'id = "fra"\nspool = "spool"\nsecrets = "secrets"\nstreaming_checks = "checks.toml"\n'
        f'netns_prefix = "{net.probe_prefix}"\nouter_netns = "{net.host}"\n\n[steps]\n'
        + "".join(f"{k} = {v}\n" for k, v in settings.items())
        + "\n"
        + targets
    )
    return config


def test_a_run_measures_every_target_and_records_every_failure(
    net: ProbeNet, tmp_path: Path
) -> None:
    speed = "http://10.66.0.1:8080/"
    wg = net.wireguard_profile(tmp_path / "wg.conf")
    down = net.wireguard_profile(tmp_path / "wg-down.conf", port=51899)
    udp = net.openvpn_profile(tmp_path / "udp.ovpn", "udp")
    tcp = net.openvpn_profile(tmp_path / "tcp.ovpn", "tcp")
    with_dns = tmp_path / "wg-dns.conf"  # a resolver inside the tunnel that does not answer
    with_dns.write_text(wg.read_text().replace("MTU = 1420", "MTU = 1420\nDNS = 10.66.0.1"))
    targets = (
        _target("wg-ok", "wireguard", wg, "wg", speed_server=speed)
        + _target("udp-ok", "openvpn-udp", udp, "ovpn", speed_server=speed, streaming=False)
        + _target("tcp-ok", "openvpn-tcp", tcp, "ovpn", speed_server=speed, streaming=False)
        + _target("wg-wrong-key", "wireguard", wg, "wg-wrong", speed_server=speed)
        + _target("wg-down", "wireguard", down, "wg", speed_server=speed)
        + _target("udp-wrong-password", "openvpn-udp", udp, "ovpn-wrong", speed_server=speed)
        + _target("wg-nowhere", "wireguard", wg, "wg", latency_target="10.66.0.99")
        + _target("wg-no-dns", "wireguard", with_dns, "wg", speed_server="http://speed.test:8080/")
        + _target("wg-hung-speed", "wireguard", wg, "wg", speed_server=f"{FAKE}/", streaming=False)
    )
    config = load_config(_config(net, tmp_path, targets))
    lines: list[str] = []
    report = run_probe(config, {}, log=lines.append)

    assert report.batch is not None and report.batch.parent == tmp_path / "spool" / "pending"
    data = report.batch.read_bytes()
    signature = report.batch.with_name(report.batch.name + ".sig").read_bytes()
    assert verify(report.batch.name, data, signature, {"fra": PROBE_KEY.encode()}) == "fra"
    records = [json.loads(line) for line in data.splitlines()]
    assert records[0]["kind"] == "batch" and records[0]["probe"] == "fra"
    by_host = {r["server"]["hostname"]: r for r in records if r["kind"] == "measurement"}
    assert len(by_host) == 9

    for host, expected_rtt in (("wg-ok", 20), ("udp-ok", 20), ("tcp-ok", 0)):
        record = by_host[host]
        assert record["connect"] == {"success": True}, host
        samples = record["latency"]["samples_ms"]
        assert len(samples) == 10 and record["packet_loss"] == 0
        assert expected_rtt <= sorted(samples)[5] <= expected_rtt + 10, (host, samples)
        for direction in ("download", "upload"):
            assert record[direction]["bytes"] > 0 and record[direction]["bytes_per_s"] > 0
    failures = {host: by_host[host]["connect"] for host in by_host}
    assert failures["wg-wrong-key"]["error"].startswith("handshake:")
    assert failures["wg-down"]["error"].startswith("handshake:")
    assert failures["udp-wrong-password"]["error"].startswith("auth:")
    assert failures["wg-nowhere"]["error"].startswith("route:")
    assert failures["wg-no-dns"]["error"].startswith("dns:")
    for host in ("wg-wrong-key", "wg-down", "udp-wrong-password", "wg-nowhere", "wg-no-dns"):
        assert failures[host]["success"] is False and "latency" not in by_host[host]
    hung = by_host["wg-hung-speed"]  # the tunnel works, the speed test hangs
    assert hung["connect"]["success"], hung
    assert "download" not in hung and "upload" not in hung, hung
    assert any("wg-hung-speed" in line and "download" in line for line in report.step_failures)

    streaming = {
        (r["server"]["hostname"], r["platform"], r["region"]): r["status"]
        for r in records
        if r["kind"] == "streaming_check"
    }
    assert streaming == {
        ("wg-ok", "netflix", "US"): "unblocked",
        ("wg-ok", "netflix", "GB"): "originals_only",
        ("wg-ok", "bbc-iplayer", "GB"): "blocked",
        ("wg-ok", "hulu", "US"): "error",  # the page never answered
    }  # targets that did not connect have no streaming checks at all

    secrets = [net.wg_client_private, OVPN_PASSWORD, "not-the-password", PROBE_KEY]
    for text in (data.decode(), signature.decode(), "\n".join(lines)):
        assert not any(secret in text for secret in secrets)
    assert not [n for n in netns.existing() if n.startswith(net.probe_prefix)]
    assert not list(Path("/tmp").glob(f"sb-probe-{net.probe_prefix}*"))
    assert not list(netns.NETNS_ETC.glob(f"{net.probe_prefix}*"))


def test_a_hung_step_is_cut_at_its_timeout(net: ProbeNet) -> None:
    namespace = netns.create(netns.free_name(net.probe_prefix))
    try:
        started = time.monotonic()
        result = step(namespace, ["resolve", "--host", "localhost"], 10)
        assert "address" in result
        hang = ["latency", "--target", "127.0.0.1", "--count", "100", "--interval", "1"]
        result = step(namespace, hang, 1.5)
        assert result["error"].startswith("timeout:")
        assert time.monotonic() - started < 8
    finally:
        netns.delete(namespace)


def test_a_run_killed_mid_way_spools_nothing_and_the_next_run_cleans_up(
    net: ProbeNet, tmp_path: Path
) -> None:
    wg = net.wireguard_profile(tmp_path / "wg.conf")
    slow = _target("wg-ok", "wireguard", wg, "wg", latency_target="10.66.0.1")
    config_path = _config(net, tmp_path, slow, latency_count=400, latency_interval_s=0.05)
    probe_cli = Path(sys.executable).with_name("site-builder")
    process = subprocess.Popen(
        [str(probe_cli), "probe", "run", "--config", str(config_path)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):  # until the tunnel's namespace exists and is in use
            ours = [n for n in netns.existing() if n.startswith(net.probe_prefix)]
            if ours and netns.pids(ours[0]):
                break
            time.sleep(0.05)
        time.sleep(1.0)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    stale = [n for n in netns.existing() if n.startswith(net.probe_prefix)]
    assert stale, "the killed run left its namespace (as a crash would)"
    assert pending(tmp_path / "spool") == []  # no half batch
    secrets_left = list(Path("/tmp").glob(f"sb-probe-{net.probe_prefix}*"))

    quick = _config(net, tmp_path, slow, latency_count=5)
    report = run_probe(load_config(quick), {})
    assert set(stale) <= set(report.stale_namespaces)
    assert secrets_left and not any(p.exists() for p in secrets_left)  # the key file too
    assert report.batch is not None and len(pending(tmp_path / "spool")) == 1
    assert not [n for n in netns.existing() if n.startswith(net.probe_prefix)]
