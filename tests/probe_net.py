"""A test network for the probe: a "host" namespace for the probe and a server namespace,
joined by a veth pair, with a real WireGuard server (wireguard-go + wg), a real OpenVPN
server (throwaway PKI made with openssl at test time), a LibreSpeed-protocol speed server
and fake streaming endpoints behind them, and impairment relays on the tunnels' paths.

    probe host ns (sbt<pid>h) 10.231.0.1 ──veth── 10.231.0.2 server ns (sbt<pid>s)
                                                   relay :51821 → wireguard-go :51820
                                                   relay :1195  → openvpn udp :1194
                                                   openvpn tcp :1443
                                                   tunnel side 10.66.0.1 (wg), 10.67.0.1 /
                                                   10.68.0.1 (ovpn): speed server :8080,
                                                   streaming fakes :8081

Everything lives in namespaces this module creates and `close` removes (also on failure).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from site_builder.probe import netns

SERVER_IP = "10.231.0.2"
HOST_IP = "10.231.0.1"
WG_SERVER_TUNNEL_IP = "10.66.0.1"
PACKAGES = "wireguard-tools wireguard-go openvpn iproute2 iputils-ping openssl"
OVPN_USER, OVPN_PASSWORD = "probe-user", "correct-horse"


def usable() -> str | None:
    """Why these tests cannot run here (no root, no /dev/net/tun), or None. Missing tools
    are not a reason to skip: `missing_tools` makes the tests fail, naming the packages."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if not Path("/dev/net/tun").exists():
        return "needs /dev/net/tun"
    return None


def missing_tools() -> list[str]:
    tools = ("ip", "wg", "wireguard-go", "openvpn", "ping", "openssl")
    return [tool for tool in tools if shutil.which(tool) is None]


def _sh(*args: str, ns: str | None = None, inp: str | None = None) -> str:
    return subprocess.run(
        netns.in_ns(ns, list(args)),
        input=inp,
        capture_output=True,
        text=True,
        check=True,
        timeout=20,
    ).stdout


STREAMING_FAKE = r"""
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        routes = {
            "/title/licensed": (200, None, "<html>Watch now</html>"),
            "/title/original": (200, None, "<html>Watch now</html>"),
            "/title/missing": (404, None, "Not available in your country"),
            "/blocked": (403, None, "proxy detected"),
            "/redirect": (302, "https://example.invalid/gb/", ""),
            "/geo": (200, None, '{"result": "geolocation"}'),
            "/hang": None,
        }
        route = routes.get(self.path)
        if route is None:
            import time; time.sleep(120); return
        status, location, body = route
        data = body.encode()
        self.send_response(status)
        if location: self.send_header("Location", location)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers(); self.wfile.write(data)
http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), H).serve_forever()
"""


@dataclass
class ProbeNet:
    tag: str
    host: str = ""
    server: str = ""
    work: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sbt-probe-")))
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    wg_server_public: str = ""
    wg_client_private: str = ""
    relays: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def probe_prefix(self) -> str:
        return f"sbt{self.tag}p-"

    def start(self) -> ProbeNet:
        try:
            return self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> ProbeNet:
        self.host = netns.create(f"sbt{self.tag}h")
        self.server = netns.create(f"sbt{self.tag}s")
        veth = f"sbt{self.tag}v"
        _sh("ip", "link", "add", veth + "a", "type", "veth", "peer", "name", veth + "b")
        _sh("ip", "link", "set", veth + "a", "netns", self.host)
        _sh("ip", "link", "set", veth + "b", "netns", self.server)
        netns.ip(self.host, "addr", "add", f"{HOST_IP}/24", "dev", veth + "a")
        netns.ip(self.host, "link", "set", veth + "a", "up")
        netns.ip(self.server, "addr", "add", f"{SERVER_IP}/24", "dev", veth + "b")
        netns.ip(self.server, "link", "set", veth + "b", "up")
        self._spawn(
            self.server, [sys.executable, "-m", "site_builder.probe.speedserver", "--port", "8080"]
        )
        fake = self.work / "streaming_fake.py"
        fake.write_text(STREAMING_FAKE)
        self._spawn(self.server, [sys.executable, str(fake), "8081"])
        self._wireguard_server()
        self._openvpn_servers()
        return self

    def _spawn(self, ns: str, args: list[str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            netns.in_ns(ns, args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.processes.append(process)
        return process

    def _wireguard_server(self) -> None:
        server_key = _sh("wg", "genkey").strip()
        self.wg_server_public = _sh("wg", "pubkey", inp=server_key).strip()
        self.wg_client_private = _sh("wg", "genkey").strip()
        client_public = _sh("wg", "pubkey", inp=self.wg_client_private).strip()
        interface = f"sbt{self.tag}w"
        env = {**os.environ, "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD": "1"}
        self.processes.append(
            subprocess.Popen(
                netns.in_ns(self.server, ["wireguard-go", "-f", interface]),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        for _ in range(100):
            if (
                subprocess.run(
                    netns.in_ns(self.server, ["ip", "link", "show", interface]), capture_output=True
                ).returncode
                == 0
            ):
                break
            time.sleep(0.05)
        key_file = self.work / "wg-server.key"
        key_file.write_text(server_key + "\n")
        _sh(
            "wg",
            "set",
            interface,
            "listen-port",
            "51820",
            "private-key",
            str(key_file),
            "peer",
            client_public,
            "allowed-ips",
            "10.66.0.2/32",
            ns=self.server,
        )
        netns.ip(self.server, "addr", "add", f"{WG_SERVER_TUNNEL_IP}/24", "dev", interface)
        netns.ip(self.server, "link", "set", interface, "up")

    def _openvpn_servers(self) -> None:
        """A throwaway PKI (EC keys, openssl) and two servers: UDP behind the relay port
        1195, TCP on 1443. Clients authenticate with a username and password only."""
        w = self.work
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        _sh(
            "openssl",
            "req",
            "-x509",
            *ec,
            "-keyout",
            str(w / "ca.key"),
            "-out",
            str(w / "ca.crt"),
            "-days",
            "2",
            "-subj",
            "/CN=sbt-test-ca",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=keyCertSign,cRLSign",
        )
        _sh(
            "openssl",
            "req",
            *ec,
            "-keyout",
            str(w / "server.key"),
            "-out",
            str(w / "server.csr"),
            "-subj",
            "/CN=sbt-vpn-server",
        )
        (w / "ext.cnf").write_text(
            "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyAgreement\n"
        )
        _sh(
            "openssl",
            "x509",
            "-req",
            "-in",
            str(w / "server.csr"),
            "-CA",
            str(w / "ca.crt"),
            "-CAkey",
            str(w / "ca.key"),
            "-CAcreateserial",
            "-out",
            str(w / "server.crt"),
            "-days",
            "2",
            "-extfile",
            str(w / "ext.cnf"),
        )
        check = w / "check-auth.sh"
        check.write_text(
            f'#!/bin/sh\n[ "$(sed -n 1p "$1")" = "{OVPN_USER}" ] && '
            f'[ "$(sed -n 2p "$1")" = "{OVPN_PASSWORD}" ]\n'
        )
        check.chmod(0o755)
        common = [
            "--ca",
            str(w / "ca.crt"),
            "--cert",
            str(w / "server.crt"),
            "--key",
            str(w / "server.key"),
            "--dh",
            "none",
            "--topology",
            "subnet",
            "--verify-client-cert",
            "none",
            "--username-as-common-name",
            "--script-security",
            "2",
            "--auth-user-pass-verify",
            str(check),
            "via-file",
            "--keepalive",
            "10",
            "60",
            "--verb",
            "3",
            "--dev-type",
            "tun",
            "--disable-dco",
        ]
        for proto, port, net, local in (
            ("udp", 1194, "10.67.0.0", "127.0.0.1"),
            ("tcp-server", 1443, "10.68.0.0", SERVER_IP),
        ):
            log = (w / f"openvpn-{proto}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    netns.in_ns(
                        self.server,
                        [
                            "openvpn",
                            "--dev",
                            f"sbt{self.tag}{proto[0]}",
                            "--proto",
                            proto,
                            "--port",
                            str(port),
                            "--local",
                            local,
                            "--server",
                            net,
                            "255.255.255.0",
                            *common,
                        ],
                    ),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        time.sleep(0.5)

    def openvpn_profile(self, path: Path, proto: str) -> Path:
        """A provider-style .ovpn (CA inline, username and password asked for)."""
        remote = f"{SERVER_IP} 1195 udp" if proto == "udp" else f"{SERVER_IP} 1443 tcp-client"
        path.write_text(
            f"client\ndev tun\nremote {remote}\nnobind\nremote-cert-tls server\n"
            f"auth-user-pass\nverb 3\n<ca>\n{(self.work / 'ca.crt').read_text()}</ca>\n"
        )
        return path

    def relay(
        self, name: str, listen_port: int, upstream_port: int, **impairment: float | str
    ) -> None:
        """(Re)start the relay `name` in front of a server port with these impairments."""
        old = self.relays.pop(name, None)
        if old is not None:
            old.terminate()
            old.wait(timeout=5)
        args = [
            sys.executable,
            "-m",
            "site_builder.probe.relay",
            "--listen",
            f"{SERVER_IP}:{listen_port}",
            "--upstream",
            f"127.0.0.1:{upstream_port}",
        ]
        for key, value in impairment.items():
            args += [f"--{key.replace('_', '-')}", str(value)]
        process = subprocess.Popen(
            netns.in_ns(self.server, args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        assert process.stdout is not None
        process.stdout.readline()  # "relay ready"
        self.relays[name] = process
        self.processes.append(process)

    def wireguard_profile(self, path: Path, port: int = 51821) -> Path:
        path.write_text(
            "[Interface]\nAddress = 10.66.0.2/32\nMTU = 1420\n\n"
            f"[Peer]\nPublicKey = {self.wg_server_public}\nEndpoint = {SERVER_IP}:{port}\n"
            "AllowedIPs = 0.0.0.0/0\n"
        )
        return path

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        netns.clean_stale(self.probe_prefix)
        for ns in (self.host, self.server):
            if ns:
                netns.delete(ns)
        shutil.rmtree(self.work, ignore_errors=True)
