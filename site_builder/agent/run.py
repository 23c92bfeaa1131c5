"""The server agent's loop: sample, average into heartbeats, spool, publish.

Every `sample_interval_s` (30 s) the agent reads /proc (sample.py); every
`heartbeat_interval_s` (120 s) it averages the samples since the last heartbeat into one
heartbeat record, with every configured service's state (services.py), and appends it to a
journal on disk (``<spool>/heartbeats.ndjson``, fsynced, so a restart loses nothing). Every
`publish_interval_s` (300 s) the journal becomes one signed batch (format version 2, header
``agent``), checked by the same validation the nightly pull runs, and spooled
(site_builder/probe/spool.py: bounded, counts what it drops); then the spool is published
to the exchange. A failed publish leaves the batches spooled for the next round, so an
outage of the exchange (or of the agent) only delays heartbeats.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from site_builder.agent.sample import Reading, cpu_pct, net_pct, read
from site_builder.agent.services import Runner, Service, check, run_command
from site_builder.datafiles import read_toml
from site_builder.errors import ConfigError
from site_builder.exchange.listing import PRODUCER
from site_builder.exchange.publish import prune_exchange, prune_sent, publish_spool
from site_builder.exchange.s3 import ExchangeError
from site_builder.exchange.settings import ExchangeSettings
from site_builder.probe.spool import SpoolLimits, dropped, recover, spool_batch
from site_builder.pull.measurements.batch import parse, sign_agent
from site_builder.pull.measurements.records import ServerRef

JOURNAL = "heartbeats.ndjson"
AGENT_KEY_ENV = "SITE_BUILDER_AGENT_KEY"
CREDENTIAL = "agent-key"
PRUNE_S = 24 * 3600.0  # retention runs once a day


@dataclass(frozen=True)
class AgentConfig:
    id: str
    server: dict[str, str]  # provider, provider_name?, hostname, ip, country, city?
    spool: Path
    destination: str | None = None  # s3://bucket/prefix; None: spool only
    link_mbit_s: float = 1000.0
    interfaces: tuple[str, ...] = ()  # () = every interface but lo
    services: tuple[Service, ...] = ()
    sample_interval_s: float = 30.0
    heartbeat_interval_s: float = 120.0
    publish_interval_s: float = 300.0
    key_file: Path | None = None
    max_pending_batches: int = 5000  # about 17 days of 5-minute batches
    keep_days: int = 30  # published batches (bucket and sent/) older than this are pruned
    proc: Path = Path("/proc")


def load_config(path: Path) -> AgentConfig:
    raw = read_toml(path, "agent configuration")
    try:
        services = tuple(Service(**entry) for entry in raw.pop("service", []))
    except TypeError as exc:
        raise ConfigError(f"{path}: [[service]]: {exc}") from None
    for key in ("id", "server", "spool"):
        if key not in raw:
            raise ConfigError(f"{path}: needs {key}")
    known = set(AgentConfig.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r}")
    config = AgentConfig(
        **{
            **raw,
            "spool": Path(raw["spool"]),
            "key_file": Path(raw["key_file"]) if raw.get("key_file") else None,
            "interfaces": tuple(raw.get("interfaces", ())),
            "proc": Path(raw.get("proc", "/proc")),
            "services": services,
        }
    )
    check_config(config, str(path))
    return config


def check_config(config: AgentConfig, origin: str) -> None:
    if config.heartbeat_interval_s < max(1.0, config.sample_interval_s):
        raise ConfigError(f"{origin}: heartbeat_interval_s must be ≥ 1 and ≥ sample_interval_s")
    if config.publish_interval_s < config.heartbeat_interval_s:
        raise ConfigError(f"{origin}: publish_interval_s must be ≥ heartbeat_interval_s")
    try:
        ServerRef.model_validate(config.server)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ConfigError(f"{origin}: [server] {where}: {error['msg']}") from None
    if not PRODUCER.match(config.id):
        raise ConfigError(f"{origin}: id {config.id!r} must be lowercase letters, digits and -")
    names = [s.name for s in config.services]
    if len(set(names)) != len(names):
        raise ConfigError(f"{origin}: two [[service]] entries share a name")


def agent_key(config: AgentConfig, env: Mapping[str, str | None]) -> bytes:
    """The agent's secret, never logged: `key_file` if the configuration names one, else
    the systemd credential ``agent-key`` (``LoadCredential=``, read from
    ``$CREDENTIALS_DIRECTORY``: https://systemd.io/CREDENTIALS/, checked 2026-12-04), else
    ``SITE_BUILDER_AGENT_KEY``."""
    key_file = config.key_file
    credentials = env.get("CREDENTIALS_DIRECTORY")
    if key_file is None and credentials and (Path(credentials) / CREDENTIAL).exists():
        key_file = Path(credentials) / CREDENTIAL
    if key_file is not None:
        try:
            secret = key_file.read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"{key_file}: cannot read the agent key: {exc}") from None
    else:
        secret = (env.get(AGENT_KEY_ENV) or "").encode()
    if not secret:
        raise ConfigError(
            f"no agent key: set key_file, a systemd credential {CREDENTIAL!r} or {AGENT_KEY_ENV}"
        )
    return secret


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Agent:
    config: AgentConfig
    secret: bytes
    exchange: ExchangeSettings = field(default_factory=ExchangeSettings)
    runner: Runner = run_command
    log: Callable[[str], None] = print
    wall: Callable[[], datetime] = lambda: datetime.now(UTC)
    heartbeats: int = 0  # written since start
    published: int = 0  # batches published since start
    pruned_at: float | None = None  # monotonic time of the last retention pass

    @property
    def journal(self) -> Path:
        return self.config.spool / JOURNAL

    def run(self, stop: threading.Event | None = None, max_heartbeats: int | None = None) -> None:
        """Sample until `stop` is set (or `max_heartbeats` were written), then spool and
        publish what is left."""
        stop = stop or threading.Event()
        config = self.config
        self.config.spool.mkdir(parents=True, exist_ok=True)
        for note in recover(config.spool):
            self.log(f"spool: {note}")
        self.flush()  # heartbeats journaled before a restart
        self.publish()
        before = read(config.proc, time.monotonic())
        window: list[tuple[float, float, float]] = []
        start = time.monotonic()
        next_beat = start + config.heartbeat_interval_s
        next_publish = start + config.publish_interval_s
        for tick in self._ticks(start, stop):
            now = read(config.proc, tick)
            window.append(self._loads(before, now))
            before = now
            if time.monotonic() >= next_beat and window:
                self.beat(window)
                window = []
                next_beat += config.heartbeat_interval_s
                if max_heartbeats is not None and self.heartbeats >= max_heartbeats:
                    break
            if time.monotonic() >= next_publish:
                self.flush()
                self.publish()
                next_publish += config.publish_interval_s
        self.flush()
        self.publish()

    def _ticks(self, start: float, stop: threading.Event) -> Iterator[float]:
        interval = self.config.sample_interval_s
        n = 1
        while not stop.wait(max(0.0, start + n * interval - time.monotonic())):
            yield time.monotonic()
            n += 1

    def _loads(self, before: Reading, after: Reading) -> tuple[float, float, float]:
        return (
            cpu_pct(before.cpu, after.cpu),
            after.ram_pct,
            net_pct(
                before,
                after,
                link_mbit_s=self.config.link_mbit_s,
                interfaces=self.config.interfaces,
            ),
        )

    def beat(self, window: list[tuple[float, float, float]]) -> dict[str, Any]:
        """Average the window into a heartbeat and journal it (append, fsync)."""
        count = len(window)
        record = {
            "kind": "heartbeat",
            "server": self.config.server,
            "at": _stamp(self.wall()),
            "cpu_pct": round(sum(w[0] for w in window) / count, 2),
            "ram_pct": round(sum(w[1] for w in window) / count, 2),
            "net_pct": round(sum(w[2] for w in window) / count, 2),
            "services": {
                s.name: check(s, proc=self.config.proc, runner=self.runner)
                for s in self.config.services
            },
        }
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        with self.journal.open("ab") as out:
            out.write(line)
            out.flush()
            os.fsync(out.fileno())
        self.heartbeats += 1
        return record

    def flush(self) -> Path | None:
        """Turn the journal into one signed, validated batch in the spool; empty it."""
        if not self.journal.exists():
            return None
        lines: dict[str, bytes] = {}
        for line in self.journal.read_bytes().splitlines():
            try:
                at = json.loads(line)["at"]
            except (ValueError, KeyError, TypeError):
                continue  # a line torn by a crash mid-append
            lines.setdefault(at, line)  # one heartbeat per moment
        if not lines:
            self.journal.unlink()
            return None
        created = self.wall()
        header = {"kind": "batch", "version": 2, "agent": self.config.id}
        header["created_at"] = _stamp(created)
        data = (json.dumps(header, separators=(",", ":")) + "\n").encode()
        data += b"".join(lines[at] + b"\n" for at in sorted(lines))
        server = self.config.server
        parse(  # the pull's own checks, before signing: a bad batch is never sent
            "journal",
            data,
            signed_probe=f"agent:{self.config.id}",
            known_probes=set(),
            now=created,
            max_age=None,
            known_agents={self.config.id: (server["provider"], server["hostname"].lower())},
        )
        name = f"{self.config.id}-{created.strftime('%Y%m%dT%H%M%S%fZ')}"
        path = spool_batch(
            self.config.spool,
            name,
            data,
            sign_agent(data, self.config.id, self.secret),
            limits=SpoolLimits(max_batches=self.config.max_pending_batches),
        )
        self.journal.unlink()
        return path

    def publish(self) -> None:
        if not self.config.destination:
            return
        report = publish_spool(
            self.config.spool, self.config.destination, probe=self.config.id, settings=self.exchange
        )
        self.published += len(report.published)
        if report.published:
            self.log(f"published {len(report.published)} batches to {report.destination}")
        if report.error:
            self.log(f"publish failed, {len(report.left_pending)} batches wait: {report.error}")
        if report.ok and (self.pruned_at is None or time.monotonic() - self.pruned_at > PRUNE_S):
            self.prune()
        lost = dropped(self.config.spool)
        if lost.batches:
            self.log(
                f"spool full: {lost.batches} batches ({lost.records} heartbeats) dropped so far"
            )

    def prune(self) -> None:
        """Retention: this agent's batches published more than `keep_days` ago leave the
        bucket (its own listing first) and the spool's sent/. A failure waits a day."""
        self.pruned_at = time.monotonic()
        config = self.config
        try:
            assert config.destination is not None
            removed = prune_exchange(
                config.destination,
                probe=config.id,
                keep_days=config.keep_days,
                settings=self.exchange,
            )
        except ExchangeError as exc:
            self.log(f"retention failed: {exc}")
            return
        local = prune_sent(config.spool, keep_days=config.keep_days)
        if removed or local:
            self.log(
                f"retention: {len(removed)} batches pruned from the bucket, {len(local)} locally"
            )
