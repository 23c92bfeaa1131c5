"""Faithful local fakes of every provider's price API (and the ECB rates file).

Two ways in, one set of answers (``payloads.HANDLERS``):
- ``serve_fake_apis()`` runs a real HTTP server on 127.0.0.1 with each provider under
  ``/<provider>/``; adapters are pointed at it with ``all_adapters(base_urls=...)``. It can
  add latency per provider and inject faults (429, 500, a timeout, 401) or mutate bodies.
- ``mock_transport()`` is an httpx transport answering for the providers' real hosts; the
  demo snapshot is made with it, so its URLs and request bodies are the real ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.fake_gpu_apis import aggregators, neoclouds, plan_clouds, spot_clouds
from tests.fake_gpu_apis.payloads import HANDLERS, FakeRequest, FakeResponse

# The providers added for issue 28 keep their fakes in modules of their own.
for _module in (plan_clouds, neoclouds, spot_clouds, aggregators):
    HANDLERS.update(_module.HANDLERS)

HOSTS = {
    "cloud.lambda.ai": "lambda",
    "api.runpod.io": "runpod",
    "console.vast.ai": "vast",
    "prices.azure.com": "azure",
    "pricing.us-east-1.amazonaws.com": "aws",
    "website.spot.ec2.aws.a2z.com": "aws",
    "cloudbilling.googleapis.com": "gcp",
    "www.oracle.com": "oci",
    "api.datacrunch.io": "verda",
    "infrahub-api.nexgencloud.com": "hyperstack",
    "dashboard.tensordock.com": "tensordock",
    "rest.compute.cudo.org": "cudo",
    "www.coreweave.com": "coreweave",
    "www.voltagepark.com": "voltagepark",
    "www.ecb.europa.eu": "ecb",
    **plan_clouds.HOSTS,
    **neoclouds.HOSTS,
    **spot_clouds.HOSTS,
    **aggregators.HOSTS,
}
ECB_PATH = "/stats/eurofxref/eurofxref-daily.xml"
Mutation = Callable[[FakeRequest, bytes], bytes]


def answer(provider: str, request: FakeRequest) -> FakeResponse:
    handler = HANDLERS.get(provider)
    if handler is None:
        return FakeResponse(404, b"unknown provider")
    return handler(request)


@dataclass
class FakeApis:
    base_url: str
    latency: dict[str, float] = field(default_factory=dict)
    faults: dict[str, list[str]] = field(default_factory=dict)  # one-shot, in order
    mutate: dict[str, Mutation] = field(default_factory=dict)  # every successful answer
    requests: list[tuple[str, FakeRequest]] = field(default_factory=list)

    def base_urls(self) -> dict[str, str]:
        return {slug: f"{self.base_url}/{slug}" for slug in HANDLERS if slug != "ecb"}

    @property
    def ecb_url(self) -> str:
        return f"{self.base_url}/ecb{ECB_PATH}"

    def count(self, provider: str) -> int:
        return sum(1 for p, _ in self.requests if p == provider)


def _respond(state: FakeApis, provider: str, request: FakeRequest) -> FakeResponse:
    state.requests.append((provider, request))
    time.sleep(state.latency.get(provider, 0.0))
    pending = state.faults.get(provider)
    fault = pending.pop(0) if pending else None
    if fault == "429":
        return FakeResponse(429, b'{"error": "rate limited"}', {"Retry-After": "0"})
    if fault == "500":
        return FakeResponse(500, b"internal error")
    if fault == "401":
        return FakeResponse(
            401, b'{"error": "invalid api key"}', {"Content-Type": "application/json"}
        )
    if fault == "timeout":
        time.sleep(1.0)  # longer than the tests' request timeout
    response = answer(provider, request)
    if response.status == 200 and provider in state.mutate:
        response = FakeResponse(
            200, state.mutate[provider](request, response.body), response.headers
        )
    return response


@contextmanager
def serve_fake_apis(
    latency: dict[str, float] | None = None,
    faults: dict[str, list[str]] | None = None,
    mutate: dict[str, Mutation] | None = None,
) -> Iterator[FakeApis]:
    state = FakeApis(
        "", dict(latency or {}), {k: list(v) for k, v in (faults or {}).items()}, dict(mutate or {})
    )

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            _, provider, rest = (
                parts.path.split("/", 2) if parts.path.count("/") >= 2 else ("", "", "")
            )
            request = FakeRequest(
                method=self.command,
                path="/" + rest,
                query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length),
            )
            response = _respond(state, provider, request)
            try:
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        do_GET = do_POST = _handle

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def mock_transport() -> httpx.MockTransport:
    """An httpx transport that answers for the providers' real hosts."""

    def handle(request: httpx.Request) -> httpx.Response:
        provider = HOSTS.get(request.url.host, "")
        fake = FakeRequest(
            method=request.method,
            path=request.url.path,
            query=dict(parse_qsl(request.url.query.decode(), keep_blank_values=True)),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=request.read(),
        )
        response = answer(provider, fake)
        return httpx.Response(response.status, headers=response.headers, content=response.body)

    return httpx.MockTransport(handle)
