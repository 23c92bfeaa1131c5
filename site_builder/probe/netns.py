"""Network namespaces for the probe: one per tunnel, so the host's routing is never touched.

Each tunnel gets its own namespace named ``<prefix><n>`` (prefix ``sbp-`` by default). The
tunnel's transport (WireGuard's UDP socket, OpenVPN's socket) stays in the *outer*
namespace (the host's, or one a test made), and only the tunnel interface is moved into
the probe's namespace, where it carries the default route: the pattern of
https://www.wireguard.com/netns/ ("ordinary containerization"; checked 2026-12-04), which
also works for wireguard-go and OpenVPN's tun devices (the device keeps working in its new
namespace while the process holding it stays outside).

Every namespace is deleted after its tunnel, whatever happened, and ``clean_stale`` removes
any left by a crashed run (with the processes inside and their /etc/netns files) at the
next start. Only names with our prefix are ever touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

PREFIX = "sbp-"
NETNS_ETC = Path("/etc/netns")  # per-namespace resolv.conf, bind-mounted by `ip netns exec`


class NetnsError(RuntimeError):
    """An `ip` command failed (the message holds its stderr)."""


def run(args: Sequence[str], *, timeout: float = 15.0, check: bool = True) -> str:
    """Run a command (no shell), returning stdout; NetnsError with stderr on failure."""
    try:
        done = subprocess.run(
            list(args), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise NetnsError(f"{' '.join(args[:4])}: no answer within {timeout:g} s") from None
    if check and done.returncode != 0:
        raise NetnsError(f"{' '.join(args[:6])}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def in_ns(namespace: str | None, args: Sequence[str]) -> list[str]:
    """`args` run inside `namespace` (None: where we are)."""
    return list(args) if namespace is None else ["ip", "netns", "exec", namespace, *args]


def ip(namespace: str | None, *args: str) -> str:
    return run(["ip", *(["-n", namespace] if namespace else []), *args])


def existing() -> list[str]:
    """Names of every network namespace on the host."""
    out = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def create(name: str, *, nameserver: str | None = None) -> str:
    """A fresh namespace with loopback up (and its own resolv.conf when given)."""
    run(["ip", "netns", "add", name])
    ip(name, "link", "set", "lo", "up")
    if nameserver:
        folder = NETNS_ETC / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "resolv.conf").write_text(f"nameserver {nameserver}\n")
    return name


def pids(name: str) -> list[int]:
    out = run(["ip", "netns", "pids", name], check=False)
    return [int(p) for p in out.split() if p.isdigit()]


def delete(name: str) -> None:
    """Kill what runs inside, delete the namespace and its /etc/netns folder. Never raises."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = pids(name)
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        for _ in range(20):
            if not pids(name):
                break
            time.sleep(0.05)
    run(["ip", "netns", "del", name], check=False)
    shutil.rmtree(NETNS_ETC / name, ignore_errors=True)


def clean_stale(prefix: str = PREFIX) -> list[str]:
    """Delete every namespace whose name starts with `prefix` (left by a crashed run)."""
    if not prefix:
        raise ValueError("a namespace prefix is required")
    stale = [name for name in existing() if name.startswith(prefix)]
    for name in stale:
        delete(name)
    return stale


def free_name(prefix: str = PREFIX) -> str:
    """The first `<prefix><n>` not in use."""
    taken = set(existing())
    n = 0
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def link_name(namespace: str, kind: str) -> str:
    """An interface name (at most 15 characters) for `namespace`'s tunnel."""
    tail = namespace.replace("-", "")
    return kind + tail[-(15 - len(kind)) :]
