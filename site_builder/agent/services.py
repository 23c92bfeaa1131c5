"""Is each configured service up? One check per kind, each bounded by a timeout.

- ``wireguard``: ``wg show <interface> latest-handshakes`` prints one line per peer, the
  peer's public key, a tab, and the UNIX time of its latest handshake (0 = never); wg(8):
  https://man7.org/linux/man-pages/man8/wg.8.html (checked 2026-12-04). Up when the command
  succeeds (the interface exists); with ``max_handshake_age_s`` set, also only when some peer
  shook hands that recently (a server without clients has no handshakes, so this is for
  servers with a monitoring peer that keeps the tunnel alive).
- ``openvpn`` (or any daemon): by ``process`` name, any /proc/<pid>/comm equal to it; or by
  ``port`` (+ ``transport`` tcp or udp): a socket listening on it in /proc/net/tcp, tcp6
  (state 0A, LISTEN) or bound to it in /proc/net/udp, udp6; the local address column is
  ``HEXADDR:HEXPORT``, proc(5): https://man7.org/linux/man-pages/man5/proc.5.html (checked
  2026-12-04).
- ``systemd``: ``systemctl is-active --quiet <unit>`` exits 0 when the unit is active
  (systemctl(1)).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from site_builder.errors import ConfigError

COMMAND_TIMEOUT_S = 10.0
KINDS = ("wireguard", "openvpn", "systemd")
Runner = Callable[[Sequence[str]], tuple[int, str]]  # argv -> (exit status, stdout)


@dataclass(frozen=True)
class Service:
    name: str  # the key in the heartbeat's services (a-z, 0-9, _ and -, up to 20)
    kind: str
    interface: str | None = None  # wireguard
    max_handshake_age_s: float | None = None  # wireguard
    process: str | None = None  # openvpn
    port: int | None = None  # openvpn
    transport: str = "udp"  # openvpn port
    unit: str | None = None  # systemd

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"service {self.name!r}: kind must be one of {', '.join(KINDS)}")
        if self.kind == "wireguard" and not self.interface:
            raise ConfigError(f"service {self.name!r}: a wireguard check needs interface")
        if self.kind == "openvpn" and not (self.process or self.port):
            raise ConfigError(f"service {self.name!r}: an openvpn check needs process or port")
        if self.kind == "systemd" and not self.unit:
            raise ConfigError(f"service {self.name!r}: a systemd check needs unit")
        if self.transport not in ("tcp", "udp"):
            raise ConfigError(f"service {self.name!r}: transport is tcp or udp")


def run_command(argv: Sequence[str]) -> tuple[int, str]:
    """Run a command with a timeout; a missing binary or a timeout counts as failure."""
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return 127, ""
    return done.returncode, done.stdout


def handshakes_recent(output: str, now_s: float, max_age_s: float) -> bool:
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[1].strip().isdigit():
            stamp = int(parts[1])
            if stamp and now_s - stamp <= max_age_s:
                return True
    return False


def process_running(proc: Path, name: str) -> bool:
    for comm in proc.glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == name:
                return True
        except OSError:  # the process ended while we looked
            continue
    return False


def port_open(proc: Path, port: int, transport: str) -> bool:
    for table in (f"{transport}", f"{transport}6"):
        path = proc / "net" / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) < 4 or ":" not in fields[1]:
                continue
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            listening = transport == "udp" or fields[3] == "0A"
            if local_port == port and listening:
                return True
    return False


def check(
    service: Service,
    *,
    proc: Path = Path("/proc"),
    runner: Runner = run_command,
    now_s: Callable[[], float] = time.time,
) -> bool:
    if service.kind == "wireguard":
        assert service.interface is not None
        status, out = runner(["wg", "show", service.interface, "latest-handshakes"])
        if status != 0:
            return False
        if service.max_handshake_age_s is None:
            return True
        return handshakes_recent(out, now_s(), service.max_handshake_age_s)
    if service.kind == "openvpn":
        if service.process and not process_running(proc, service.process):
            return False
        return not service.port or port_open(proc, service.port, service.transport)
    assert service.unit is not None
    status, _ = runner(["systemctl", "is-active", "--quiet", service.unit])
    return status == 0
