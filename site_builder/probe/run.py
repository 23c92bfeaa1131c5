"""`probe run`: every target through its own tunnel, then one signed batch in the spool.

For each target: a fresh namespace, the tunnel (tunnels.py), then the steps of measure.py
run inside the namespace as child processes with a hard timeout each: latency, download,
upload, streaming checks. Whatever fails becomes part of the record, never a crash:

- the tunnel does not come up: a measurement with ``connect.success = false`` and
  ``connect.error = "<class>: <detail>"`` (class: timeout, auth, handshake, dns, route);
- it comes up but nothing answers through it: ``route: …``; the speed server's name does
  not resolve through it: ``dns: …``;
- a step that fails or hangs past its timeout is left out of the record (a download
  that never finished has no figure) and named in the run's report.

Records are kept in memory; the batch is built only when every target is done, validated by
the ingest's own code (pull/measurements/batch.py: `parse`, the same Checker) and signed,
then spooled atomically (probe/spool.py). A run that crashes spools nothing, and the
namespaces it left are removed at the next start (`netns.clean_stale`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from site_builder.errors import ConfigError
from site_builder.probe import netns
from site_builder.probe.config import ProbeConfig, Target, probe_key, secret
from site_builder.probe.latency import summary
from site_builder.probe.spool import spool_batch
from site_builder.probe.streaming import Check, classify, load_checks
from site_builder.probe.tunnels import (
    Tunnel,
    TunnelFailure,
    clean_stale_workdirs,
    openvpn_up,
    parse_wireguard,
    wireguard_up,
)
from site_builder.pull.measurements.batch import parse, sign
from site_builder.pull.measurements.reference import load_reference

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "vpn" / "reference.toml"
Log = Callable[[str], None]


@dataclass
class RunReport:
    batch: Path | None = None
    measurements: int = 0
    streaming_checks: int = 0
    failures: list[str] = field(default_factory=list)  # "<target>: <class>: <detail>"
    step_failures: list[str] = field(default_factory=list)
    stale_namespaces: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per target label
    # batch v1 has no field for it: reported and logged, not sent
    connect_ms: dict[str, int] = field(default_factory=dict)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def _server(target: Target) -> dict[str, Any]:
    server: dict[str, Any] = {
        "provider": target.provider,
        "hostname": target.hostname,
        "ip": target.ip,
        "country": target.country,
    }
    if target.provider_name:
        server["provider_name"] = target.provider_name
    if target.city:
        server["city"] = target.city
    return server


def step(namespace: str, args: list[str], timeout: float) -> dict[str, Any]:
    """One measure.py step inside `namespace`; {"error": …} when it fails or hangs."""
    command = netns.in_ns(namespace, [sys.executable, "-m", "site_builder.probe.measure", *args])
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout: the {args[0]} step did not finish within {timeout:g} s"}
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {
            "error": f"the {args[0]} step failed: {done.stderr.strip()[-150:] or done.returncode}"
        }
    return result if isinstance(result, dict) else {"error": "the step printed no object"}


def bring_up(
    config: ProbeConfig, target: Target, namespace: str, env: Mapping[str, str | None]
) -> Tunnel:
    steps = config.steps
    secret_value = secret(config, target.secret, env)
    if target.protocol == "wireguard":
        profile = parse_wireguard(target.profile.read_text())
        return wireguard_up(
            profile,
            secret_value,
            namespace,
            outer=config.outer_netns,
            deadline_s=steps.connect_timeout_s,
        )
    username, _, password = secret_value.partition("\n")
    return openvpn_up(
        target.profile,
        username.strip(),
        password.strip(),
        namespace,
        proto="udp" if target.protocol == "openvpn-udp" else "tcp-client",
        outer=config.outer_netns,
        deadline_s=steps.connect_timeout_s,
    )


def measure_target(
    config: ProbeConfig,
    target: Target,
    env: Mapping[str, str | None],
    checks: list[Check],
    index: int,
    report: RunReport,
    log: Log,
) -> list[dict[str, Any]]:
    """The records of one target (a measurement, and its streaming checks when connected)."""
    started = datetime.now(UTC)
    record: dict[str, Any] = {
        "kind": "measurement",
        "id": f"{config.id}-{started:%Y%m%dT%H%M%S}-{index}",
        "probe": config.id,
        "server": _server(target),
        "protocol": target.protocol,
        "started_at": _stamp(started),
    }
    nameserver = None
    if target.protocol == "wireguard":  # its DNS = … ; OpenVPN's pushed DNS: the up script
        nameserver = parse_wireguard(target.profile.read_text()).dns
    namespace = netns.create(netns.free_name(config.netns_prefix), nameserver=nameserver)
    records = [record]
    try:
        try:
            tunnel = bring_up(config, target, namespace, env)
        except TunnelFailure as failure:
            record["connect"] = {"success": False, "error": str(failure)}
            report.failures.append(f"{target.label}: {failure}")
            return records
        log(f"{target.label}: tunnel up in {tunnel.connect_ms} ms")
        report.connect_ms[target.label] = tunnel.connect_ms
        try:
            records += _through(config, target, namespace, tunnel, record, checks, report)
        finally:
            tunnel.close()
    finally:
        netns.delete(namespace)
    if not record["connect"]["success"]:
        report.failures.append(f"{target.label}: {record['connect']['error']}")
    log(f"{target.label}: {json.dumps(record['connect'])}")
    return records


def _through(
    config: ProbeConfig,
    target: Target,
    namespace: str,
    tunnel: Tunnel,
    record: dict[str, Any],
    checks: list[Check],
    report: RunReport,
) -> list[dict[str, Any]]:
    steps = config.steps
    limit = steps.step_timeout_s
    speed_host = urlsplit(target.speed_server).hostname if target.speed_server else None
    host = target.latency_target or speed_host
    failed = {"success": False}
    if host is not None and speed_host == host and not _is_address(host):
        resolved = step(namespace, ["resolve", "--host", host], limit)
        if "error" in resolved:
            record["connect"] = failed | {"error": str(resolved["error"])[:200]}
            return []
        host = str(resolved["address"])
    if host is None:
        record["connect"] = failed | {"error": "route: the target names no latency target"}
        return []
    args = ["latency", "--target", host, "--count", str(steps.latency_count)]
    args += ["--interval", str(steps.latency_interval_s)]
    if target.speed_server:
        args += ["--tcp-port", str(urlsplit(target.speed_server).port or 80)]
    latency = step(namespace, args, limit)
    samples = latency.get("samples_ms") or []
    if not samples:
        why = latency.get("error") or f"no answer from {host} through the tunnel"
        record["connect"] = failed | {"error": f"route: {why}"[:200]}
        return []
    record["connect"] = {"success": True}
    record["latency"] = {"samples_ms": samples}
    record["packet_loss"] = round(summary(samples, int(latency["sent"])).loss, 4)
    if target.speed_server:
        for direction, warmup in (
            ("download", steps.download_warmup_s),
            ("upload", steps.upload_warmup_s),
        ):
            args = [direction, "--url", target.speed_server, "--streams", str(steps.streams)]
            args += ["--warmup", str(warmup), "--duration", str(steps.transfer_seconds)]
            result = step(namespace, args, min(limit, warmup + steps.transfer_seconds + 15))
            if "error" in result or not result.get("bytes"):
                report.step_failures.append(
                    f"{target.label} {direction}: {result.get('error', 'no bytes')}"
                )
                continue
            record[direction] = {k: int(result[k]) for k in ("bytes", "duration_ms", "bytes_per_s")}
    if not target.streaming:
        return []
    out = []
    for n, check in enumerate(checks):
        fetched = step(
            namespace,
            ["fetch", "--url", check.url, "--wait", str(steps.fetch_timeout_s)],
            steps.fetch_timeout_s + 10,
        )
        out.append(
            {
                "kind": "streaming_check",
                "id": f"{record['id']}-s{n}",
                "server": record["server"],
                "platform": check.platform,
                "region": check.region,
                "status": classify(check, fetched),
                "checked_at": _stamp(datetime.now(UTC)),
            }
        )
    return out


def _is_address(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def build_batch(probe: str, created: datetime, records: list[dict[str, Any]]) -> bytes:
    header = {"kind": "batch", "version": 1, "probe": probe, "created_at": _stamp(created)}
    lines = [json.dumps(header, separators=(",", ":"))]
    lines += [json.dumps(r, separators=(",", ":")) for r in records]
    return ("\n".join(lines) + "\n").encode()


def validate(name: str, data: bytes, probe: str, reference_path: Path) -> None:
    """The ingest's own checks (raises BatchRejected): what we spool, the pull will take."""
    reference = load_reference(reference_path)
    parse(
        name,
        data,
        signed_probe=probe,
        known_probes={p["id"] for p in reference["probe"]},
        now=datetime.now(UTC),
        known_protocols=frozenset(p["slug"] for p in reference["protocol"]),
    )


def run_probe(
    config: ProbeConfig,
    env: Mapping[str, str | None],
    *,
    only: set[tuple[str, str]] | None = None,
    reference_path: Path = REFERENCE,
    log: Log = lambda line: None,
) -> RunReport:
    """Measure the targets (those in `only`, as (provider, hostname), when given) and spool
    one signed batch. Raises ConfigError before touching anything when a key is missing."""
    import time

    key = probe_key(config, env)
    for (
        target
    ) in config.target:  # a broken profile is the operator's to fix: stop before any tunnel
        try:
            text = target.profile.read_text()
            if target.protocol == "wireguard":
                parse_wireguard(text)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{target.profile}: unusable profile for {target.label}: {exc}"
            ) from None
    report = RunReport(stale_namespaces=netns.clean_stale(config.netns_prefix))
    clean_stale_workdirs(config.netns_prefix)
    checks = load_checks(config.streaming_checks) if config.streaming_checks else []
    created = datetime.now(UTC)
    records: list[dict[str, Any]] = []
    wanted = None if only is None else {(p, h.lower()) for p, h in only}
    targets = [
        t for t in config.target if wanted is None or (t.provider, t.hostname.lower()) in wanted
    ]
    for index, target in enumerate(targets):
        began = time.monotonic()
        records += measure_target(config, target, env, checks, index, report, log)
        report.seconds[target.label] = round(time.monotonic() - began, 2)
    if not records:
        return report
    name = f"{created:%Y%m%dT%H%M%SZ}-{config.id}"
    data = build_batch(config.id, created, records)
    validate(name + ".ndjson", data, config.id, reference_path)
    report.batch = spool_batch(config.spool, name, data, sign(data, config.id, key))
    report.measurements = sum(1 for r in records if r["kind"] == "measurement")
    report.streaming_checks = len(records) - report.measurements
    return report
