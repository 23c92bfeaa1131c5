"""The nameserver's sockets: DNS over UDP and TCP, and the HTTP results API.

Built on the standard library's socketserver with dnslib for the wire format, so every
failure mode is ours to bound: malformed packets are dropped, TCP connections have a
timeout, a size cap and a concurrency cap, and UDP is served by one thread (a flood cannot
spawn threads). The results API's connections likewise have an idle timeout, a deadline
for the whole request and a cap on how many are served at once (one thread each); beyond
the cap a connection gets an immediate 503.
"""

from __future__ import annotations

import hmac
import io
import json
import re
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dnslib import QTYPE, DNSRecord

from site_builder.dnsleak.geo import CountryLookup
from site_builder.dnsleak.store import LeakStore
from site_builder.dnsleak.zone import ZoneConfig, answer

TCP_TIMEOUT_S = 5.0
TCP_MAX_MESSAGE = 4096  # queries are small; anything larger is not a query
TCP_MAX_CONNECTIONS = 64
TCP_MAX_QUERIES_PER_CONNECTION = 32
TCP_CONNECTION_DEADLINE_S = 30.0  # all of a connection's queries
# The results API: one caller (the site's function) asking a few times per test, so a few
# dozen connections at once is plenty; a client that sends nothing, or drips a byte at a
# time, is cut off instead of holding a thread.
HTTP_MAX_CONNECTIONS = 32
HTTP_IDLE_TIMEOUT_S = 5.0  # silence allowed between two reads
HTTP_REQUEST_TIMEOUT_S = 10.0  # the whole request, however it trickles in
_BUSY_BODY = b'{"error": "too many connections; try again soon"}\n'
HTTP_BUSY = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Cache-Control: no-store\r\nRetry-After: 1\r\nConnection: close\r\n"
    b"Content-Length: " + str(len(_BUSY_BODY)).encode() + b"\r\n\r\n" + _BUSY_BODY
)
RESULTS_PATH = re.compile(r"^/results/([0-9a-f]{16,64})$")


@dataclass
class Counters:
    answered: int = 0
    dropped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)


class NameServer:
    """Serves the zone on UDP and TCP and the results API on HTTP until `stop()`."""

    def __init__(
        self,
        config: ZoneConfig,
        *,
        secret: str,
        store: LeakStore | None = None,
        countries: CountryLookup | None = None,
        dns_address: tuple[str, int] = ("0.0.0.0", 53),
        http_address: tuple[str, int] = ("127.0.0.1", 8053),
        clock: Callable[[], float] = time.time,
        http_max_connections: int = HTTP_MAX_CONNECTIONS,
        http_idle_timeout_s: float = HTTP_IDLE_TIMEOUT_S,
        http_request_timeout_s: float = HTTP_REQUEST_TIMEOUT_S,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the results secret must be at least 16 characters")
        if http_max_connections < 1 or http_idle_timeout_s <= 0 or http_request_timeout_s <= 0:
            raise ValueError("the results API needs a positive connection cap and timeouts")
        self.config = config
        self.secret = secret
        self.store = store or LeakStore()
        self.countries = countries or CountryLookup.empty()
        self.clock = clock
        self.counters = Counters()
        self._connections = threading.BoundedSemaphore(TCP_MAX_CONNECTIONS)
        self.udp, self.tcp = self._bind_dns(dns_address)
        self.http = _HTTPServer(http_address, _ResultsHandler, self)
        self.http.limit(http_max_connections, http_idle_timeout_s, http_request_timeout_s)
        self._threads: list[threading.Thread] = []

    def _bind_dns(self, address: tuple[str, int]) -> tuple[_UDPServer, _TCPServer]:
        """UDP and TCP on the same port. With port 0 the system picks the UDP port, and
        that number may already be taken for TCP by another socket: then pick again."""
        attempts = 20 if address[1] == 0 else 1
        for attempt in range(attempts):
            udp = _UDPServer(address, _UDPHandler, self)
            try:
                return udp, _TCPServer((address[0], udp.server_address[1]), _TCPHandler, self)
            except OSError:
                udp.server_close()
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def dns_port(self) -> int:
        return int(self.udp.server_address[1])

    @property
    def http_port(self) -> int:
        return int(self.http.server_address[1])

    def start(self) -> None:
        for server in (self.udp, self.tcp, self.http):
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for server in (self.udp, self.tcp, self.http):
            server.shutdown()
            server.server_close()

    def handle_query(self, data: bytes, client_ip: str) -> bytes | None:
        """The reply to one wire-format query, or None to drop it."""
        try:
            request = DNSRecord.parse(data)
            if request.header.qr or request.header.opcode != 0:
                raise ValueError("not a standard query")
            result = answer(request, self.config)
            reply = result.reply.pack()
        except Exception:  # malformed input of any kind: drop it, never crash
            self.counters.count("dropped")
            return None
        if result.test_id is not None:
            qtype = QTYPE.get(request.q.qtype, str(request.q.qtype))
            self.store.record(result.test_id, client_ip, str(qtype), self.clock())
        self.counters.count("answered")
        return reply

    def results(self, test_id: str) -> dict[str, Any]:
        def iso(moment: float) -> str:
            return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        return {
            "id": test_id,
            "resolvers": [
                {
                    "ip": seen.ip,
                    "country": self.countries.country(seen.ip),
                    "first_seen": iso(seen.first_seen),
                    "last_seen": iso(seen.last_seen),
                    "queries": seen.queries,
                    "qtypes": sorted(seen.qtypes),
                }
                for seen in self.store.results(test_id, self.clock())
            ],
        }


class _Owned:
    """Mixin for the three servers: keeps the NameServer and picks the address family."""

    address_family: int

    def __init__(self, address: tuple[str, int], handler: type, owner: NameServer) -> None:
        self.owner = owner
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)  # type: ignore[call-arg]


class _UDPServer(_Owned, socketserver.UDPServer):
    allow_reuse_address = True
    max_packet_size = 4096

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.owner.counters.count("dropped")


class _UDPHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        reply = self.server.owner.handle_query(data, self.client_address[0])  # type: ignore[attr-defined]
        if reply is not None:
            sock.sendto(reply, self.client_address)


class _TCPServer(_Owned, socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.owner._connections.acquire(blocking=False):
            self.shutdown_request(request)  # over the connection cap: refuse
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.owner._connections.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.owner.counters.count("dropped")


def _read_exactly(sock: socket.socket, size: int, deadline: float) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the connection outlived its deadline")
        sock.settimeout(min(TCP_TIMEOUT_S, left))
        chunk = sock.recv(remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class _TCPHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(TCP_TIMEOUT_S)
        owner: NameServer = self.server.owner  # type: ignore[attr-defined]
        # a client dripping a byte every few seconds would otherwise hold its slot for hours
        deadline = time.monotonic() + TCP_CONNECTION_DEADLINE_S
        try:
            for _ in range(TCP_MAX_QUERIES_PER_CONNECTION):
                prefix = _read_exactly(sock, 2, deadline)
                if prefix is None:
                    return
                (length,) = struct.unpack("!H", prefix)
                if length == 0 or length > TCP_MAX_MESSAGE:
                    owner.counters.count("dropped")
                    return
                data = _read_exactly(sock, length, deadline)
                if data is None:
                    return
                reply = owner.handle_query(data, self.client_address[0])
                if reply is None:
                    return
                sock.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:  # timeouts and resets end the connection quietly
            return


class _HTTPServer(_Owned, ThreadingHTTPServer):
    daemon_threads = True

    def limit(self, connections: int, idle_timeout_s: float, request_timeout_s: float) -> None:
        self.slots = threading.BoundedSemaphore(connections)
        self.idle_timeout_s = idle_timeout_s
        self.request_timeout_s = request_timeout_s

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            # Refused on the accepting thread, so never blocking it: the reply fits in an
            # empty socket buffer, and a client that cannot take it just loses it.
            try:
                request.setblocking(False)
                request.send(HTTP_BUSY)
                request.recv(65536)  # what already came: unread, closing would reset
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started: give the slot back
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class _DeadlineReader(io.RawIOBase):
    """A socket's reads, each allowed `idle_s` of silence, all of them ending by `deadline`
    (time.monotonic): past either, a read raises TimeoutError and the handler hangs up."""

    def __init__(self, sock: socket.socket, idle_s: float, deadline: float) -> None:
        self.sock, self.idle_s, self.deadline = sock, idle_s, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request took longer than its deadline")
        self.sock.settimeout(min(self.idle_s, left))
        return self.sock.recv_into(buffer)


class _ResultsHandler(BaseHTTPRequestHandler):
    server_version = "dnsleak"
    sys_version = ""

    def setup(self) -> None:
        server: _HTTPServer = self.server  # type: ignore[assignment]
        self.timeout = server.idle_timeout_s  # StreamRequestHandler: also bounds the writes
        super().setup()
        self.rfile.close()  # the plain reader setup made; the socket stays open
        deadline = time.monotonic() + server.request_timeout_s
        # BaseHTTPRequestHandler reads the request line and headers from rfile and treats a
        # TimeoutError there as the end of the connection.
        self.rfile = io.BufferedReader(
            _DeadlineReader(self.connection, server.idle_timeout_s, deadline)
        )

    def _send(self, status: int, document: dict[str, Any]) -> None:
        body = (json.dumps(document, sort_keys=True) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        owner: NameServer = self.server.owner  # type: ignore[attr-defined]
        if self.path == "/healthz":
            self._send(200, {"status": "ok"})
            return
        supplied = self.headers.get("Authorization", "")
        if not hmac.compare_digest(supplied.encode(), f"Bearer {owner.secret}".encode()):
            self._send(401, {"error": "missing or wrong bearer token"})
            return
        match = RESULTS_PATH.match(self.path)
        if match is None:
            self._send(404, {"error": "use GET /results/<test id (16-64 hex digits)>"})
            return
        self._send(200, owner.results(match.group(1)))

    def log_message(self, format: str, *args: object) -> None:
        pass
