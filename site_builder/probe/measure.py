"""The measurements themselves, run *inside* a probe namespace as a child process.

`probe run` starts `python -m site_builder.probe.measure <step> …` with `ip netns exec`, so
every socket this module opens lives in the tunnel's namespace, and each step has a hard
timeout (the parent kills a step that hangs). Standard library only; it prints one JSON
object on stdout. It never sees a credential.

Steps:

- ``latency``: N ICMP echoes with ping(8) (iputils), one per interval; where every echo is
  lost (ICMP filtered), N TCP connects to the speed server's port instead (SYN to SYN-ACK is
  one round trip). Reported: the samples, how many were sent and answered.
- ``download`` / ``upload``: LibreSpeed's backend protocol (librespeed/speedtest @04cdce6,
  backend/garbage.php, backend/empty.php, speedtest_worker.js; checked 2026-12-04):
  ``GET garbage.php?ckSize=<MiB>&r=<random>`` streams ckSize MiB of random bytes (at most
  1024); ``POST empty.php?r=<random>`` takes a body and answers 200 empty. Several
  parallel streams, each restarted when its request ends; the first `warmup` seconds are
  discarded (LibreSpeed's grace time, 1.5 s down and 3 s up) and the rest counted until
  the time cap. Bytes are HTTP payload bytes (no overhead factor applied).
- ``fetch``: one GET without following redirects: status, Location, the body's first
  64 KiB (the streaming checks classify it; see streaming.py).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

PING_LINE = re.compile(rb"icmp_seq=(\d+) .*time=([\d.]+) ms")
CHUNK = 65536
UPLOAD_SNDBUF = 131072


def ping_samples(target: str, count: int, interval: float, wait: float) -> tuple[list[float], int]:
    """(round-trip times in ms of the answered echoes, number sent) from ping(8)."""
    deadline = count * interval + wait + 2
    done = subprocess.run(
        ["ping", "-n", "-c", str(count), "-i", str(interval), "-W", str(wait), target],
        capture_output=True,
        timeout=deadline + 5,
        check=False,
    )
    samples: dict[int, float] = {}
    for match in PING_LINE.finditer(done.stdout):
        samples.setdefault(int(match.group(1)), float(match.group(2)))
    return [samples[seq] for seq in sorted(samples)], count


def tcp_samples(
    target: str, port: int, count: int, interval: float, wait: float
) -> tuple[list[float], int]:
    """Round trips as TCP connect times (the fallback where ICMP is filtered)."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        try:
            with socket.create_connection((target, port), timeout=wait):
                samples.append((time.perf_counter() - started) * 1000)
        except OSError:
            pass
        time.sleep(max(0.0, interval - (time.perf_counter() - started)))
    return samples, count


def latency(args: argparse.Namespace) -> dict[str, object]:
    samples, sent = ping_samples(args.target, args.count, args.interval, args.wait)
    method = "icmp"
    if not samples and args.tcp_port:
        samples, sent = tcp_samples(
            args.target, args.tcp_port, args.count, args.interval, args.wait
        )
        method = "tcp"
    return {"samples_ms": [round(s, 3) for s in samples], "sent": sent, "method": method}


class _Streams:
    """Parallel HTTP streams counting payload bytes until `stop` is set."""

    def __init__(self, url: str, upload: bool, streams: int, chunk_mib: int) -> None:
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        base = parts.path if parts.path.endswith("/") else parts.path + "/"
        self.path = base + ("empty.php" if upload else "garbage.php")
        self.upload, self.chunk_mib = upload, chunk_mib
        self.counts = [0] * streams
        self.errors: list[str] = []
        self.answered = 0  # requests the speed server answered with 200
        self.stop = threading.Event()
        self.payload = os.urandom(CHUNK)  # incompressible
        self.threads = [
            threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(streams)
        ]

    def _connection(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        connection = cls(self.host, self.port, timeout=5)
        if self.upload:  # bytes are counted as the socket takes them: keep its buffer small,
            # or a slow link's first megabytes sit in the kernel and count as sent
            try:
                connection.connect()
                assert connection.sock is not None
                connection.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, UPLOAD_SNDBUF)
            except OSError:
                pass  # the request will fail and be retried
        return connection

    def _body(self, index: int, size: int):  # type: ignore[no-untyped-def]
        sent = 0
        while sent < size and not self.stop.is_set():
            yield self.payload
            sent += len(self.payload)
            self.counts[index] += len(self.payload)

    def _loop(self, index: int) -> None:
        connection = self._connection()
        while not self.stop.is_set():
            query = f"?r={random.random()}"
            before = self.counts[index]
            try:
                if self.upload:
                    size = self.chunk_mib * 1048576
                    headers = {
                        "Content-Length": str(size),
                        "Content-Type": "application/octet-stream",
                    }
                    connection.request("POST", self.path + query, self._body(index, size), headers)
                    response = connection.getresponse()
                    response.read()
                    if response.status != 200:
                        raise OSError(f"empty.php answered {response.status}")
                    self.answered += 1
                else:
                    connection.request("GET", f"{self.path}{query}&ckSize={self.chunk_mib}")
                    response = connection.getresponse()
                    if response.status != 200:
                        raise OSError(f"garbage.php answered {response.status}")
                    self.answered += 1
                    while not self.stop.is_set():
                        data = response.read1(CHUNK)
                        if not data:
                            break
                        self.counts[index] += len(data)
                    if self.stop.is_set():
                        break
            except (OSError, http.client.HTTPException) as exc:
                if self.upload:  # bytes of a failed upload did not reach a speed server
                    self.counts[index] = before
                if not self.stop.is_set():
                    self.errors.append(f"{type(exc).__name__}: {exc}"[:120])
                    time.sleep(0.2)
                connection.close()
                connection = self._connection()
        connection.close()


def transfer(args: argparse.Namespace) -> dict[str, object]:
    streams = _Streams(args.url, args.step == "upload", args.streams, args.chunk_mib)
    for i, thread in enumerate(streams.threads):
        thread.start()
        if i + 1 < len(streams.threads):
            time.sleep(0.2)  # LibreSpeed starts its streams a little apart
    time.sleep(args.warmup)
    start_bytes, start = sum(streams.counts), time.perf_counter()
    time.sleep(args.duration)
    end_bytes, end = sum(streams.counts), time.perf_counter()
    streams.stop.set()
    moved = max(0, end_bytes - start_bytes)
    elapsed = end - start
    result: dict[str, object] = {
        "bytes": moved,
        "duration_ms": max(1, round(elapsed * 1000)),
        "bytes_per_s": round(moved / elapsed) if elapsed > 0 else 0,
        "streams": args.streams,
        "warmup_s": args.warmup,
    }
    if streams.errors and (moved == 0 or streams.answered == 0):
        # nothing the speed server accepted: no figure (bytes still in flight do not count)
        result.update(bytes=0, bytes_per_s=0, error=streams.errors[0])
    return result


def fetch(args: argparse.Namespace) -> dict[str, object]:
    parts = urlsplit(args.url)
    https = parts.scheme == "https"
    cls = http.client.HTTPSConnection if https else http.client.HTTPConnection
    try:
        connection = cls(parts.hostname or "", parts.port, timeout=args.wait)
    except socket.gaierror as exc:
        return {"error": f"dns: {exc}"}
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", path, headers={"User-Agent": args.user_agent})
        response = connection.getresponse()
        body = response.read(65536)
    except socket.gaierror as exc:
        return {"error": f"dns: {exc}"}
    except (OSError, http.client.HTTPException) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:150]}
    finally:
        connection.close()
    return {
        "status": response.status,
        "location": response.getheader("Location"),
        "body": body.decode("utf-8", errors="replace"),
    }


def resolve(args: argparse.Namespace) -> dict[str, object]:
    try:
        return {"address": socket.getaddrinfo(args.host, None)[0][4][0]}
    except socket.gaierror as exc:
        return {"error": f"dns: cannot resolve {args.host}: {exc}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="site_builder.probe.measure")
    steps = parser.add_subparsers(dest="step", required=True)
    lat = steps.add_parser("latency")
    lat.add_argument("--target", required=True)
    lat.add_argument("--count", type=int, default=20)
    lat.add_argument("--interval", type=float, default=0.2)
    lat.add_argument("--wait", type=float, default=1.0)
    lat.add_argument("--tcp-port", type=int)
    for name in ("download", "upload"):
        step = steps.add_parser(name)
        step.add_argument("--url", required=True)
        step.add_argument("--streams", type=int, default=4)
        step.add_argument("--warmup", type=float, default=1.5 if name == "download" else 3.0)
        step.add_argument("--duration", type=float, default=10.0)
        step.add_argument("--chunk-mib", type=int, default=25 if name == "download" else 4)
    get = steps.add_parser("fetch")
    get.add_argument("--url", required=True)
    get.add_argument("--wait", type=float, default=10.0)
    get.add_argument("--user-agent", default="Mozilla/5.0 (X11; Linux x86_64) site-builder-probe")
    res = steps.add_parser("resolve")
    res.add_argument("--host", required=True)
    args = parser.parse_args(argv)
    handlers = {"latency": latency, "download": transfer, "upload": transfer}
    handlers |= {"fetch": fetch, "resolve": resolve}
    json.dump(handlers[args.step](args), sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()
    os._exit(0)  # streams' threads may still be blocked on a socket


if __name__ == "__main__":
    raise SystemExit(main())
