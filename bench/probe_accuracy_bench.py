"""Probe accuracy and cost: injected vs measured latency, loss and rate through real tunnels,
and what one server and protocol costs a probe (seconds, CPU).

    sudo .venv/bin/python bench/probe_accuracy_bench.py --runs 3

Builds the test network of tests/probe_net.py (namespaces, wireguard-go and OpenVPN servers,
the LibreSpeed-protocol speed server, the UDP impairment relay), so it needs root and
/dev/net/tun, and touches nothing outside the namespaces it makes. Prints Markdown tables
(medians over --runs) for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from probe_net import OVPN_PASSWORD, OVPN_USER, ProbeNet  # noqa: E402

from site_builder.probe import netns  # noqa: E402
from site_builder.probe.config import load_config  # noqa: E402
from site_builder.probe.latency import summary  # noqa: E402
from site_builder.probe.run import run_probe, step  # noqa: E402
from site_builder.probe.tunnels import parse_wireguard, wireguard_up  # noqa: E402

SPEED = "http://10.66.0.1:8080/"


def _latency(namespace: str, count: int, interval: float) -> tuple[float, float, float]:
    args = ["latency", "--target", "10.66.0.1", "--count", str(count), "--interval", str(interval)]
    result = step(namespace, args, 120)
    figures = summary(result["samples_ms"], result["sent"])
    return figures.median_ms or 0.0, figures.jitter_ms or 0.0, figures.loss


def accuracy(net: ProbeNet, runs: int) -> list[str]:
    profile = parse_wireguard(net.wireguard_profile(net.work / "bench.conf").read_text())
    net.relay("wg", 51821, 51820)
    namespace = netns.create(netns.free_name(net.probe_prefix))
    tunnel = wireguard_up(profile, net.wg_client_private, namespace, outer=net.host)
    out = []
    try:
        base = statistics.median(_latency(namespace, 20, 0.05)[0] for _ in range(runs))
        out += [f"Base round trip through relay and tunnel, nothing injected: {base:.2f} ms", ""]
        out += ["| injected RTT | jitter ± | measured median | error vs injected+base | jitter |"]
        out += ["| --- | --- | --- | --- | --- |"]
        for rtt, jitter in ((20, 0), (50, 0), (100, 0), (50, 5)):
            net.relay("wg", 51821, 51820, rtt_ms=rtt, jitter_ms=jitter)
            got = [_latency(namespace, 20, 0.05) for _ in range(runs)]
            median = statistics.median(g[0] for g in got)
            jit = statistics.median(g[1] for g in got)
            error = median - (rtt + base)
            out.append(
                f"| {rtt} ms | {jitter} ms | {median:.2f} ms | {error:+.2f} ms "
                f"({100 * error / (rtt + base):+.1f}%) | {jit:.2f} ms |"
            )
        out += [
            "",
            "| injected loss | mode | packets | measured loss (median) |",
            "| --- | --- | --- | --- |",
        ]
        for loss in (0.05, 0.10, 0.20):
            for mode in ("even", "random"):
                measured = []
                for seed in range(runs):
                    net.relay(
                        "wg", 51821, 51820, rtt_ms=5, loss=loss, loss_mode=mode, seed=seed + 1
                    )
                    measured.append(_latency(namespace, 200, 0.01)[2])
                out.append(f"| {loss:.0%} | {mode} | 200 | {statistics.median(measured):.1%} |")
        out += [
            "",
            "| rate limit | direction | measured (median) | error |",
            "| --- | --- | --- | --- |",
        ]
        for rate in (5, 10, 20, 40):
            net.relay("wg", 51821, 51820, rtt_ms=10, rate_mbit=rate)
            for direction in ("download", "upload"):
                values = []
                for _ in range(runs):
                    args = [direction, "--url", SPEED, "--streams", "4", "--warmup", "1"]
                    result = step(namespace, [*args, "--duration", "3"], 60)
                    values.append(result["bytes_per_s"] * 8 / 1e6)
                got = statistics.median(values)
                error = 100 * (got - rate) / rate
                out.append(f"| {rate} Mbit/s | {direction} | {got:.2f} Mbit/s | {error:+.1f}% |")
    finally:
        tunnel.close()
        netns.delete(namespace)
        net.relay("wg", 51821, 51820)
    return out


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def cost(net: ProbeNet, runs: int, folder: Path) -> list[str]:
    net.relay("wg", 51821, 51820, rtt_ms=20, rate_mbit=20)
    net.relay("ovpn", 1195, 1194, rtt_ms=20, rate_mbit=20)
    secrets = folder / "secrets"
    secrets.mkdir()
    (secrets / "probe.key").write_text("bench-key")
    (secrets / "wg").write_text(net.wg_client_private)
    (secrets / "ovpn").write_text(f"{OVPN_USER}\n{OVPN_PASSWORD}\n")
    profiles = {
        "wireguard": net.wireguard_profile(folder / "wg.conf"),
        "openvpn-udp": net.openvpn_profile(folder / "udp.ovpn", "udp"),
        "openvpn-tcp": net.openvpn_profile(folder / "tcp.ovpn", "tcp"),
    }
    out = ["| protocol | wall seconds (median) | CPU seconds, probe side (median) |"]
    out.append("| --- | --- | --- |")
    for protocol, profile in profiles.items():
        secret = "wg" if protocol == "wireguard" else "ovpn"
        config = folder / f"{protocol}.toml"
        config.write_text(
            f'id = "fra"\nspool = "spool-{protocol}"\nsecrets = "secrets"\n'
            f'netns_prefix = "{net.probe_prefix}"\nouter_netns = "{net.host}"\n[steps]\n'
            "latency_count = 20\nlatency_interval_s = 0.2\ntransfer_seconds = 5\n"
            "download_warmup_s = 1.5\nupload_warmup_s = 3\nstreams = 4\n\n"
            f'[[target]]\nprovider = "testvpn"\nhostname = "bench.example"\nip = "198.51.100.9"\n'
            f'country = "DE"\nprotocol = "{protocol}"\nprofile = "{profile}"\n'
            f'secret = "{secret}"\nspeed_server = "{SPEED}"\n'
        )
        walls, cpus = [], []
        for _ in range(runs):
            cpu, wall = _cpu(), time.monotonic()
            run_probe(load_config(config), {})
            walls.append(time.monotonic() - wall)
            cpus.append(_cpu() - cpu)
        out.append(
            f"| {protocol} | {statistics.median(walls):.1f} s | {statistics.median(cpus):.2f} s |"
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-cost", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0 or not Path("/dev/net/tun").exists():
        print("needs root and /dev/net/tun", file=sys.stderr)
        return 2
    net = ProbeNet(tag=f"{os.getpid() % 10000}b").start()
    try:
        print("\n".join(accuracy(net, args.runs)))
        if not args.skip_cost:
            with tempfile.TemporaryDirectory() as folder:
                print()
                print("\n".join(cost(net, args.runs, Path(folder))))
    finally:
        net.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
