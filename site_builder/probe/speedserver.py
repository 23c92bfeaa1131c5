"""A speed server that speaks LibreSpeed's backend protocol (`site-builder speed-server`).

The endpoints, as LibreSpeed's PHP backend has them (librespeed/speedtest @04cdce6,
backend/garbage.php, backend/empty.php, backend/getIP.php; doc.md "backend files";
checked 2026-12-04), at the root and under ``backend/``:

- ``GET garbage.php?ckSize=N``: N chunks of 1 MiB of random bytes (default 4, at most
  1024), ``application/octet-stream``, no caching, no compression;
- ``GET|POST empty.php``: reads and discards the request body, answers 200 with no body
  and ``Connection: keep-alive`` (the upload and ping target);
- ``GET getIP.php``: the client's address as plain text (only the socket's peer address:
  unlike getIP_util.php we never trust X-Forwarded-For and similar headers).

``?cors`` adds LibreSpeed's CORS headers, so a browser LibreSpeed front end can use it too.
Standard library only (http.server with one thread per connection, HTTP/1.1 keep-alive).
"""

from __future__ import annotations

import argparse
import contextlib
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MIB = 1048576
DEFAULT_CHUNKS, MAX_CHUNKS = 4, 1024
_PAYLOAD = os.urandom(MIB)  # one random MiB, sent ckSize times, as garbage.php does
NO_CACHE = "no-store, no-cache, must-revalidate, max-age=0, s-maxage=0"


def chunk_count(query: dict[str, list[str]]) -> int:
    """garbage.php's rule: ckSize digits > 0, else 4; capped at 1024."""
    raw = (query.get("ckSize") or [""])[0]
    if not raw.isdigit() or int(raw) <= 0:
        return DEFAULT_CHUNKS
    return min(int(raw), MAX_CHUNKS)


class SpeedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "site-builder-speed"

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: a speed test is thousands of requests

    def _endpoint(self) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        name = parts.path.rsplit("/", 1)[-1]
        return name, parse_qs(parts.query, keep_blank_values=True)

    def _headers(self, query: dict[str, list[str]], content_type: str, length: int) -> None:
        self.send_header("Cache-Control", NO_CACHE)
        self.send_header("Pragma", "no-cache")
        if "cors" in query:
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Methods", "GET, POST")
            self.send_header("Access-Control-Allow-Headers", "Content-Encoding, Content-Type")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _drain(self) -> None:
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining > 0:
            data = self.rfile.read(min(remaining, 65536))
            if not data:
                break
            remaining -= len(data)

    def do_GET(self) -> None:
        name, query = self._endpoint()
        if name == "garbage.php":
            chunks = chunk_count(query)
            self.send_response(200)
            self.send_header("Content-Description", "File Transfer")
            self.send_header("Content-Disposition", "attachment; filename=random.dat")
            self._headers(query, "application/octet-stream", chunks * MIB)
            try:
                for _ in range(chunks):
                    self.wfile.write(_PAYLOAD)
            except OSError:
                self.close_connection = True
        elif name == "empty.php":
            self._drain()
            self.send_response(200)
            self.send_header("Connection", "keep-alive")
            self._headers(query, "text/plain", 0)
        elif name == "getIP.php":
            body = self.client_address[0].encode()
            self.send_response(200)
            self._headers(query, "text/plain; charset=utf-8", len(body))
            self.wfile.write(body)
        else:
            self._drain()
            self.send_response(404)
            self._headers(query, "text/plain", 0)

    def do_POST(self) -> None:
        self.do_GET() if self._endpoint()[0] == "empty.php" else self._not_allowed()

    def _not_allowed(self) -> None:
        self._drain()
        self.send_response(405)
        self._headers({}, "text/plain", 0)


def make_server(host: str, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), SpeedHandler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="site_builder.probe.speedserver")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port)
    print(f"listening on {args.host}:{server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
