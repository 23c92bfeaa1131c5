"""A real S3-protocol server on loopback for tests (moto in server mode), and a small
HTTP proxy in front of it that can answer chosen requests with an S3 error (a 503
SlowDown, say) the way a real endpoint under load does, passing everything else through."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from moto.server import ThreadedMotoServer

from site_builder.exchange.s3 import make_client
from site_builder.exchange.settings import ExchangeSettings

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test-key",
    "AWS_SECRET_ACCESS_KEY": "test-secret",
    "AWS_REGION": "us-east-1",
}


@contextmanager
def moto_server() -> Iterator[str]:
    """A fresh moto S3 server on 127.0.0.1 (a free port); yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # moto keeps its buckets in process-wide state: start each test with none
    httpx.post(f"{url}/moto-api/reset", timeout=10).raise_for_status()
    try:
        yield url
    finally:
        server.stop()


def settings_for(endpoint: str, max_attempts: int = 4) -> ExchangeSettings:
    env = {**CREDENTIALS, "SITE_BUILDER_S3_ENDPOINT_URL": endpoint}
    settings = ExchangeSettings.from_env(env)
    return ExchangeSettings(**{**settings.__dict__, "max_attempts": max_attempts})


def make_bucket(endpoint: str, bucket: str) -> None:
    make_client(settings_for(endpoint)).create_bucket(Bucket=bucket)


# (method, path) -> an error to answer with, as (status, S3 error code), or None to pass on
Fault = Callable[[str, str], tuple[int, str] | None]


@dataclass
class FaultProxy:
    url: str
    seen: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status


@contextmanager
def fault_proxy(upstream: str, fault: Fault) -> Iterator[FaultProxy]:
    """An HTTP/1.1 proxy on 127.0.0.1 forwarding to `upstream` (http://host:port), except
    where `fault` answers with an S3 error document."""
    host, port = upstream.removeprefix("http://").split(":")
    state = FaultProxy(url="")
    lock = threading.Lock()

    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # so botocore's "Expect: 100-continue" is answered

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                injected = fault(self.command, self.path)
            if injected is not None:
                status, code = injected
                error = (
                    f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                    f"<Message>injected by the test</Message></Error>"
                ).encode()
                self._answer(status, {"Content-Type": "application/xml"}, error)
                state.seen.append((self.command, self.path, status))
                return
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "expect"}
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                passed = {
                    k: v
                    for k, v in response.getheaders()
                    if k.lower() not in ("content-length", "transfer-encoding", "connection")
                }
                self._answer(response.status, passed, data)
                state.seen.append((self.command, self.path, response.status))
            finally:
                connection.close()

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
