"""Bringing a real tunnel up inside a probe namespace: WireGuard and OpenVPN.

WireGuard (https://www.wireguard.com/netns/, wg(8); checked 2026-12-04): the interface is
created in the outer namespace, with the kernel module where `ip link add … type
wireguard` works and `wireguard-go` (userspace, on a TUN device) where it does not;
configured with `wg set` (the private key is read from a 0600 file, never put on a command
line), then moved into the probe namespace, addressed and made its default route. It is up
once `wg show <if> latest-handshakes` reports a handshake.

OpenVPN (openvpn(8) 2.6: --ifconfig-noexec, --route-noexec, --up, --auth-user-pass;
checked 2026-12-04): the `openvpn` binary runs in the outer namespace with the provider's
profile; its --up script moves the tun device into the probe namespace and configures it
there, as slingamn/namespaced-openvpn does. Data-channel offload is disabled, so the
device is an ordinary tun. It is up at "Initialization Sequence Completed".

Failures are classified from what the tools say (see `classify_openvpn`): ``timeout``,
``auth``, ``handshake``, ``dns``, ``route``. WireGuard answers nothing to a wrong key, by
design, so a wrong key and a server that is down both read as ``handshake``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from site_builder.probe.netns import NetnsError, in_ns, ip, link_name, run


@dataclass
class TunnelFailure(Exception):
    """The tunnel did not come up: `kind` is the failure class, `detail` one line."""

    kind: str  # timeout | auth | handshake | dns | route
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"[:200]


@dataclass
class WireGuardProfile:
    """A wg-quick style profile ([Interface] Address/DNS/MTU, [Peer] ...), without the key."""

    address: list[str]
    peer_public_key: str
    endpoint: str  # host:port
    allowed_ips: str = "0.0.0.0/0"
    dns: str | None = None
    mtu: int = 1420
    preshared_key: str | None = None


def parse_wireguard(text: str) -> WireGuardProfile:
    """Read a wg-quick .conf (the keys we use; a PrivateKey in it is ignored: keys come
    from the secrets folder or the environment)."""
    section, values = "", {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            section = line.strip("[]").lower()
            continue
        key, _, value = line.partition("=")
        values[(section, key.strip().lower())] = value.strip()
    try:
        return WireGuardProfile(
            address=[a.strip() for a in values[("interface", "address")].split(",")],
            peer_public_key=values[("peer", "publickey")],
            endpoint=values[("peer", "endpoint")],
            allowed_ips=values.get(("peer", "allowedips"), "0.0.0.0/0"),
            dns=(values.get(("interface", "dns")) or "").split(",")[0].strip() or None,
            mtu=int(values.get(("interface", "mtu"), "1420")),
            preshared_key=values.get(("peer", "presharedkey")),
        )
    except KeyError as exc:
        raise ValueError(
            f"WireGuard profile lacks {exc.args[0][1]} in [{exc.args[0][0]}]"
        ) from None


@dataclass
class Tunnel:
    """A tunnel that is up: stop it with `close` (idempotent)."""

    namespace: str
    interface: str
    connect_ms: int
    process: subprocess.Popen[bytes] | None = None
    workdir: Path | None = None
    log: list[str] = field(default_factory=list)
    stray_link: tuple[str | None, str] | None = None  # a kernel interface not yet moved

    def close(self) -> None:
        if self.stray_link is not None:
            outer, name = self.stray_link
            run(in_ns(outer, ["ip", "link", "del", name]), check=False)
            self.stray_link = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.workdir is not None:
            for item in self.workdir.iterdir():
                item.unlink()
            self.workdir.rmdir()
            self.workdir = None


WORKDIR_PREFIX = "sb-probe-"  # + the namespace's name: stale ones go with stale namespaces


def _private_dir(namespace: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{namespace}-"))  # mode 0700


def clean_stale_workdirs(netns_prefix: str) -> list[Path]:
    """Remove the secret files a crashed run left (its tunnels' private folders)."""
    import shutil

    stale = list(Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}{netns_prefix}*"))
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return stale


def _secret_file(folder: Path, name: str, content: str) -> Path:
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(content)
    return path


def _resolve_endpoint(endpoint: str) -> str:
    host, _, port = endpoint.rpartition(":")
    host = host.strip("[]")
    try:
        address = socket.getaddrinfo(host, int(port), type=socket.SOCK_DGRAM)[0][4][0]
    except (socket.gaierror, ValueError) as exc:
        raise TunnelFailure("dns", f"cannot resolve {host}: {exc}") from None
    return f"[{address}]:{port}" if ":" in str(address) else f"{address}:{port}"


def wireguard_up(
    profile: WireGuardProfile,
    private_key: str,
    namespace: str,
    *,
    outer: str | None = None,
    deadline_s: float = 15.0,
) -> Tunnel:
    """Bring WireGuard up in `namespace`; raises TunnelFailure (having cleaned up)."""
    started = time.monotonic()
    interface = link_name(namespace, "sbwg")
    workdir = _private_dir(namespace)
    tunnel = Tunnel(namespace, interface, 0, workdir=workdir)
    try:
        endpoint = _resolve_endpoint(profile.endpoint)
        try:
            ip(outer, "link", "add", interface, "type", "wireguard")
            tunnel.stray_link = (outer, interface)
        except NetnsError:  # no kernel module: userspace wireguard-go on a TUN device
            env = {**os.environ, "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD": "1"}
            tunnel.process = subprocess.Popen(
                in_ns(outer, ["wireguard-go", "-f", interface]),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _wait_for_link(outer, interface, 5.0)
        key_file = _secret_file(workdir, "private.key", private_key.strip() + "\n")
        args = ["wg", "set", interface, "private-key", str(key_file), "peer"]
        args += [profile.peer_public_key, "endpoint", endpoint, "allowed-ips", profile.allowed_ips]
        if profile.preshared_key:
            psk = _secret_file(workdir, "psk", profile.preshared_key + "\n")
            args += ["preshared-key", str(psk)]
        run(in_ns(outer, args))
        ip(outer, "link", "set", interface, "netns", namespace)
        tunnel.stray_link = None  # it goes with the namespace now
        ip(namespace, "link", "set", interface, "mtu", str(profile.mtu), "up")
        for address in profile.address:
            ip(namespace, "addr", "add", address, "dev", interface)
        ip(namespace, "route", "add", "default", "dev", interface)
        _wait_for_handshake(namespace, interface, started + deadline_s)
        tunnel.connect_ms = round((time.monotonic() - started) * 1000)
        return tunnel
    except NetnsError as exc:
        tunnel.close()
        raise TunnelFailure("route", f"setting up the interface failed: {exc}") from None
    except BaseException:
        tunnel.close()
        raise


def _wait_for_link(namespace: str | None, interface: str, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if run(in_ns(namespace, ["ip", "link", "show", interface]), check=False):
            return
        time.sleep(0.05)
    raise NetnsError(f"wireguard-go did not create {interface}")


def _wait_for_handshake(namespace: str, interface: str, end: float) -> None:
    """Poke the tunnel (a packet makes WireGuard start its handshake) until one completes."""
    while time.monotonic() < end:
        subprocess.run(
            in_ns(namespace, ["ping", "-c", "1", "-W", "0.3", "-n", "192.0.2.1"]),
            capture_output=True,
            timeout=5,
            check=False,
        )
        out = run(["ip", "netns", "exec", namespace, "wg", "show", interface, "latest-handshakes"])
        if any(line.split()[-1] != "0" for line in out.splitlines() if line.strip()):
            return
    raise TunnelFailure(
        "handshake", "no WireGuard handshake before the deadline (wrong key or server down)"
    )


UP_SCRIPT = r"""#!/bin/sh
set -e
ip link set dev "$dev" netns {ns}
ip -n {ns} link set dev "$dev" mtu "$tun_mtu" up
if [ -n "$ifconfig_netmask" ]; then
  ip -n {ns} addr add "$ifconfig_local/$ifconfig_netmask" dev "$dev"
else
  ip -n {ns} addr add "$ifconfig_local" peer "$ifconfig_remote" dev "$dev"
fi
ip -n {ns} route add default dev "$dev"
# DNS servers the server pushed (dhcp-option DNS) become the namespace's resolv.conf
i=1
while true; do
  eval "option=\${{foreign_option_$i:-}}"
  [ -n "$option" ] || break
  case "$option" in
    "dhcp-option DNS "*) mkdir -p /etc/netns/{ns}
      echo "nameserver ${{option#dhcp-option DNS }}" >> /etc/netns/{ns}/resolv.conf ;;
  esac
  i=$((i + 1))
done
"""

# What OpenVPN's log says, first match wins: (marker, failure class)
OPENVPN_FAILURES = (
    ("AUTH_FAILED", "auth"),
    ("RESOLVE: Cannot resolve", "dns"),
    ("Cannot resolve host", "dns"),
    ("TLS Error", "handshake"),
    ("TLS handshake failed", "handshake"),
    ("VERIFY ERROR", "handshake"),
    ("Connection refused", "timeout"),
    ("Network is unreachable", "route"),
    ("No route to host", "route"),
)


def classify_openvpn(log: list[str]) -> tuple[str, str] | None:
    """(failure class, the log line) for the first line that names a known failure."""
    for line in log:
        for marker, kind in OPENVPN_FAILURES:
            if marker in line:
                return kind, line.strip()[-150:]
    return None


def openvpn_up(
    config: Path,
    username: str,
    password: str,
    namespace: str,
    *,
    proto: str | None = None,
    outer: str | None = None,
    deadline_s: float = 20.0,
) -> Tunnel:
    """Start `openvpn` with the provider's profile; raises TunnelFailure (cleaned up)."""
    started = time.monotonic()
    interface = link_name(namespace, "sbtun")
    workdir = _private_dir(namespace)
    auth = _secret_file(workdir, "auth.txt", f"{username}\n{password}\n")
    script = workdir / "up.sh"
    script.write_text(UP_SCRIPT.format(ns=namespace))
    script.chmod(0o700)
    args = ["openvpn", "--config", str(config.resolve()), "--dev", interface, "--dev-type", "tun"]
    args += ["--auth-user-pass", str(auth), "--auth-nocache", "--disable-dco"]
    args += ["--ifconfig-noexec", "--route-noexec", "--script-security", "2", "--up", str(script)]
    args += ["--connect-retry-max", "1", "--verb", "3", "--auth-retry", "none"]
    if proto:
        args += ["--proto", proto]
    process = subprocess.Popen(
        in_ns(outer, args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=config.parent
    )
    tunnel = Tunnel(namespace, interface, 0, process=process, workdir=workdir)
    try:
        _wait_for_openvpn(tunnel, started + deadline_s)
        tunnel.connect_ms = round((time.monotonic() - started) * 1000)
        return tunnel
    except BaseException:
        tunnel.close()
        raise


def _wait_for_openvpn(tunnel: Tunnel, end: float) -> None:
    import selectors

    process = tunnel.process
    assert process is not None and process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    pending = b""
    try:
        while time.monotonic() < end:
            if selector.select(timeout=min(0.5, max(0.0, end - time.monotonic()))):
                chunk = process.stdout.read() or b""
                pending += chunk
                *lines, pending = pending.split(b"\n")
                tunnel.log += [line.decode(errors="replace") for line in lines]
                if any("Initialization Sequence Completed" in line for line in tunnel.log):
                    _drain_in_background(tunnel)
                    return
                if found := classify_openvpn(tunnel.log):
                    raise TunnelFailure(*found)
                if not chunk and process.poll() is not None:
                    break
            elif process.poll() is not None:
                break
    finally:
        selector.close()
    if found := classify_openvpn(tunnel.log):
        raise TunnelFailure(*found)
    if process.poll() is not None:
        last = tunnel.log[-1].strip()[-150:] if tunnel.log else "no output"
        raise TunnelFailure("handshake", f"openvpn exited ({process.returncode}): {last}")
    raise TunnelFailure("timeout", "openvpn did not finish initialising before the deadline")


def _drain_in_background(tunnel: Tunnel) -> None:
    """Keep reading openvpn's output while the tunnel is up (a full pipe would stall it);
    the last 200 lines are kept."""
    process = tunnel.process
    assert process is not None and process.stdout is not None
    stdout = process.stdout
    os.set_blocking(stdout.fileno(), True)

    def drain() -> None:
        for line in iter(stdout.readline, b""):
            tunnel.log.append(line.decode(errors="replace").rstrip("\n"))
            del tunnel.log[:-200]

    threading.Thread(target=drain, daemon=True).start()
