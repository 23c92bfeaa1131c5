"""End to end: `probe run` through a real WireGuard tunnel (a 20 ms round trip and a
12 Mbit/s link injected on its path) → `probe publish` to a real S3-protocol server on
loopback (moto) → `build-site` pulls from s3:// → the server's page shows those figures."""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from probe_net import ProbeNet, usable
from s3_server import CREDENTIALS, make_bucket, moto_server

from site_builder.cli import build_site, main
from site_builder.render.environment import mbps, ms

pytestmark = pytest.mark.skipif(usable() is not None, reason=usable() or "")
KEY = "e2e-probe-key"
HOST = "de-fra-wg-042.testvpn.example"


def test_figures_measured_through_a_tunnel_reach_the_server_page(
    project_dir: Path, tmp_path: Path
) -> None:
    net = ProbeNet(tag=f"{os.getpid() % 10000}e").start()
    try:
        net.relay("wg", 51821, 51820, rtt_ms=20, rate_mbit=12)
        profile = net.wireguard_profile(tmp_path / "wg.conf")
        (tmp_path / "secrets").mkdir()
        (tmp_path / "secrets" / "probe.key").write_text(KEY)
        (tmp_path / "secrets" / "wg").write_text(net.wg_client_private)
        target = (
            f'[[target]]\nprovider = "testvpn"\nprovider_name = "TestVPN"\nhostname = "{HOST}"\n'
            'ip = "198.51.100.42"\ncountry = "DE"\ncity = "Frankfurt"\nprotocol = "wireguard"\n'
            f'profile = "{profile}"\nsecret = "wg"\nspeed_server = "http://10.66.0.1:8080/"\n'
            "streaming = false\n"
        )
        config = tmp_path / "probe.toml"
        config.write_text(
            f'id = "fra"\nspool = "spool"\nsecrets = "secrets"\n'
            f'netns_prefix = "{net.probe_prefix}"\nouter_netns = "{net.host}"\n\n[steps]\n'
            "latency_count = 10\nlatency_interval_s = 0.05\ntransfer_seconds = 2\n"
            "download_warmup_s = 0.5\nupload_warmup_s = 0.5\nstreams = 2\n\n"
            + target
            * 3  # three runs: the page gate in the test project is 3 runs
        )
        run = CliRunner().invoke(main, ["probe", "run", "--config", str(config)])
        assert run.exit_code == 0, run.output
    finally:
        net.close()
    batch = next((tmp_path / "spool" / "pending").glob("*.ndjson"))
    measurements = [
        json.loads(line) for line in batch.read_text().splitlines()[1:] if '"measurement"' in line
    ]
    assert len(measurements) == 3 and all(m["connect"]["success"] for m in measurements)
    latency = statistics.median(statistics.median(m["latency"]["samples_ms"]) for m in measurements)
    download = statistics.median(m["download"]["bytes_per_s"] for m in measurements)
    assert 20 <= latency <= 30 and abs(download * 8 / 1e6 - 12) <= 12 * 0.15

    with moto_server() as endpoint:
        make_bucket(endpoint, "probes")
        env = {
            **CREDENTIALS,
            "SITE_BUILDER_S3_ENDPOINT_URL": endpoint,
            "SITE_BUILDER_PROBE_KEYS": json.dumps({"fra": KEY}),
            "SITE_BUILDER_MEASUREMENTS_SOURCE": "s3://probes/vpn",
            "DATABASE_URL": f"sqlite:///{project_dir / 'store.db'}",
        }
        publish = CliRunner().invoke(
            main,
            ["probe", "publish", "--config", str(config), "--destination", "s3://probes/vpn"],
            env=env,
        )
        assert publish.exit_code == 0, publish.output
        assert "1 batches published" in publish.output
        assert not list((tmp_path / "spool" / "pending").glob("*.ndjson"))
        arguments = ["--config", str(project_dir / "sites.toml"), "--site", "bestvpnserver"]
        # checked too: a night with one measured server must publish (its protocol has no
        # page yet, so the server page must not link one)
        built = CliRunner().invoke(build_site, [*arguments, "--skip-deploy"], env=env)
        assert built.exit_code == 0, built.output

    live = project_dir / "output" / "bestvpnserver"
    server_page = live / "servers" / "testvpn" / "de-fra-wg-042-testvpn-example" / "index.html"
    assert server_page.exists(), "no server page for the measured server"
    page = server_page.read_text()
    assert HOST in page
    assert ms(latency) in page and mbps(download) in page
    assert "demo-banner" not in page  # measured, not demo
