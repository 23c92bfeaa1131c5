"""CPU, memory and network load of the host, read from /proc (pure parsers + one reader).

- CPU from ``/proc/stat``'s first ``cpu`` line: cumulative USER_HZ ticks for user, nice,
  system, idle, iowait, irq, softirq, steal (then guest and guest_nice, which the kernel
  already counts inside user and nice, so they are left out). Busy share between two
  readings = 1 - Δ(idle + iowait) / Δ(all eight). proc_stat(5):
  https://manpages.opensuse.org/Tumbleweed/man-pages/proc_stat.5.en.html (checked 2026-12-04).
- Memory from ``/proc/meminfo``: used share = 1 - MemAvailable / MemTotal. MemAvailable is
  the kernel's estimate of memory available without swapping, present since Linux 3.14
  (torvalds/linux commit 34e431b0ae39, checked 2026-12-04); an older kernel falls back to
  MemFree + Buffers + Cached, and the docs say so.
- Network from ``/proc/net/dev``: per interface, cumulative received bytes (first column
  after the name) and transmitted bytes (ninth), the layout proc(5) documents
  (https://man7.org/linux/man-pages/man5/proc.5.html, checked 2026-12-04). Load = the busier
  direction's bytes/s over the configured link speed (links are full duplex), capped at 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CpuTicks:
    busy: int
    total: int


@dataclass(frozen=True)
class Reading:
    """One look at /proc: cumulative counters (CPU, network) and the memory share now."""

    monotonic_s: float
    cpu: CpuTicks
    ram_pct: float
    net_bytes: dict[str, tuple[int, int]]  # interface -> (received, transmitted)


class ProcFormatError(ValueError):
    """A /proc file did not have the documented layout."""


def parse_stat(text: str) -> CpuTicks:
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            if len(fields) < 5:
                raise ProcFormatError("/proc/stat: the cpu line has fewer than 4 counters")
            values = [int(v) for v in fields[1:9]]
            idle = values[3] + (values[4] if len(values) > 4 else 0)
            return CpuTicks(busy=sum(values) - idle, total=sum(values))
    raise ProcFormatError("/proc/stat: no 'cpu' line")


def cpu_pct(before: CpuTicks, after: CpuTicks) -> float:
    total = after.total - before.total
    if total <= 0:
        return 0.0
    return _pct((after.busy - before.busy) / total)


def parse_meminfo(text: str) -> float:
    """The share of memory in use, in percent."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[name.strip()] = int(parts[0])
    total = values.get("MemTotal")
    if not total:
        raise ProcFormatError("/proc/meminfo: no MemTotal")
    available = values.get("MemAvailable")
    if available is None:  # before Linux 3.14
        available = sum(values.get(k, 0) for k in ("MemFree", "Buffers", "Cached"))
    return _pct(1 - available / total)


def parse_net_dev(text: str) -> dict[str, tuple[int, int]]:
    counters: dict[str, tuple[int, int]] = {}
    for line in text.splitlines()[2:]:  # two header lines
        name, sep, rest = line.partition(":")
        fields = rest.split()
        if not sep or len(fields) < 9:
            continue
        counters[name.strip()] = (int(fields[0]), int(fields[8]))
    return counters


def net_pct(
    before: Reading, after: Reading, *, link_mbit_s: float, interfaces: tuple[str, ...] = ()
) -> float:
    """Load of the busier direction over the link speed; `interfaces` empty = every one
    but loopback. A counter that went down (interface reset) counts as no traffic."""
    seconds = after.monotonic_s - before.monotonic_s
    if seconds <= 0 or link_mbit_s <= 0:
        return 0.0
    names = interfaces or tuple(n for n in after.net_bytes if n != "lo")
    received = sent = 0
    for name in names:
        if name in before.net_bytes and name in after.net_bytes:
            (rx0, tx0), (rx1, tx1) = before.net_bytes[name], after.net_bytes[name]
            received += max(rx1 - rx0, 0)
            sent += max(tx1 - tx0, 0)
    capacity = link_mbit_s * 1_000_000 / 8 * seconds  # bytes the link carries each way
    return _pct(max(received, sent) / capacity)


def _pct(share: float) -> float:
    return round(min(max(share * 100, 0.0), 100.0), 2)


def read(proc: Path, monotonic_s: float) -> Reading:
    """Read the three files under `proc` (normally /proc)."""
    return Reading(
        monotonic_s=monotonic_s,
        cpu=parse_stat((proc / "stat").read_text()),
        ram_pct=parse_meminfo((proc / "meminfo").read_text()),
        net_bytes=parse_net_dev((proc / "net" / "dev").read_text()),
    )
