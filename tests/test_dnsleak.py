"""The DNS leak nameserver on loopback, queried by a real DNS client (dnspython)."""

from __future__ import annotations

import os
import secrets
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import httpx
import pytest

from site_builder.dnsleak.geo import CountryLookup
from site_builder.dnsleak.server import NameServer
from site_builder.dnsleak.store import LeakStore
from site_builder.dnsleak.zone import ZoneConfig

SECRET = "test-secret-0123456789abcdef"
ZONE = "leak.example.com"
CONFIG = ZoneConfig(
    zone=ZONE,
    nameservers=("ns1.leak.example.com",),
    answer_ipv4="192.0.2.80",
    answer_ipv6="2001:db8::80",
)
COUNTRIES = CountryLookup.from_csv(Path(__file__).parent / "fixtures/dnsleak/countries.csv")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(clock: Clock) -> Iterator[NameServer]:
    store = LeakStore(ttl_s=300, max_tests=50, max_resolvers_per_test=4)
    ns = NameServer(
        CONFIG,
        secret=SECRET,
        store=store,
        countries=COUNTRIES,
        dns_address=("127.0.0.1", 0),
        http_address=("127.0.0.1", 0),
        clock=clock,
    )
    ns.start()
    yield ns
    ns.stop()


def query(ns: NameServer, name: str, rdtype: str = "A", tcp: bool = False) -> dns.message.Message:
    message = dns.message.make_query(name, rdtype)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(message, "127.0.0.1", port=ns.dns_port, timeout=2)


def results(ns: NameServer, test_id: str, token: str = SECRET) -> httpx.Response:
    return httpx.get(
        f"http://127.0.0.1:{ns.http_port}/results/{test_id}",
        headers={"Authorization": f"Bearer {token}"},
    )


def new_id() -> str:
    return secrets.token_hex(16)


def test_a_query_is_answered_with_ttl_0_and_recorded(server: NameServer) -> None:
    test_id = new_id()
    reply = query(server, f"1-{test_id}.{ZONE}")
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.flags & dns.flags.AA
    [rrset] = reply.answer
    assert rrset.ttl == 0 and rrset[0].address == "192.0.2.80"
    six = query(server, f"2-{test_id}.{ZONE}", "AAAA", tcp=True)
    assert six.answer[0][0].address == "2001:db8::80"
    body = results(server, test_id).json()
    assert body["id"] == test_id
    [resolver] = body["resolvers"]
    assert resolver["ip"] == "127.0.0.1" and resolver["country"] == "ZZ"
    assert resolver["queries"] == 2 and resolver["qtypes"] == ["A", "AAAA"]


def test_random_case_from_the_resolver_still_counts(server: NameServer) -> None:
    test_id = new_id()
    name = "".join(c.upper() if i % 2 else c for i, c in enumerate(f"3-{test_id}"))
    reply = query(server, f"{name}.{ZONE}")
    assert reply.answer[0].name.to_text().startswith(name)  # echoed as asked
    assert len(results(server, test_id).json()["resolvers"]) == 1


def test_zone_apex_other_names_and_other_zones(server: NameServer) -> None:
    ns_reply = query(server, ZONE, "NS")
    assert ns_reply.answer[0][0].target.to_text() == "ns1.leak.example.com."
    assert query(server, f"www.{ZONE}").rcode() == dns.rcode.NXDOMAIN
    assert query(server, f"abc.{ZONE}").rcode() == dns.rcode.NXDOMAIN  # too few random bits
    assert query(server, "example.org").rcode() == dns.rcode.REFUSED
    assert server.store.size() == (0, 0)


def test_results_need_the_shared_secret(server: NameServer) -> None:
    test_id = new_id()
    query(server, f"{test_id}.{ZONE}")
    assert results(server, test_id, token="wrong-secret-xxxxxxxx").status_code == 401
    missing = httpx.get(f"http://127.0.0.1:{server.http_port}/results/{test_id}")
    assert missing.status_code == 401
    assert results(server, "not-hex").status_code == 404
    assert results(server, new_id()).json()["resolvers"] == []


def test_entries_expire(server: NameServer, clock: Clock) -> None:
    test_id = new_id()
    query(server, f"{test_id}.{ZONE}")
    clock.now += 299
    assert results(server, test_id).json()["resolvers"]
    clock.now += 2
    assert results(server, test_id).json()["resolvers"] == []
    assert server.store.size() == (0, 0)


def test_garbage_packets_are_dropped_without_crashing(server: NameServer) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    packets = [
        b"",
        b"\x00",
        b"\xff" * 12,
        os.urandom(512),
        b"\x12\x34" + b"\x00" * 10 + b"\xc0\x0c",
    ]
    good = dns.message.make_query(f"{new_id()}.{ZONE}", "A").to_wire()
    packets.append(good[:-3])  # truncated question
    for packet in packets:
        sock.sendto(packet, ("127.0.0.1", server.dns_port))
    sock.close()
    with socket.create_connection(("127.0.0.1", server.dns_port)) as tcp:
        tcp.sendall(struct.pack("!H", 60000) + b"x" * 100)  # claims a huge message
    with socket.create_connection(("127.0.0.1", server.dns_port)) as tcp:
        tcp.sendall(struct.pack("!H", 20) + os.urandom(20))
    assert query(server, f"{new_id()}.{ZONE}").rcode() == dns.rcode.NOERROR
    assert query(server, f"{new_id()}.{ZONE}", tcp=True).rcode() == dns.rcode.NOERROR
    assert server.counters.dropped >= 6


def test_a_flood_stays_within_the_memory_caps(server: NameServer) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2)
    target = ("127.0.0.1", server.dns_port)
    for n in range(3000):
        name = f"{new_id()}.{ZONE}" if n % 3 else f"{n}-{'ab' * 8}.{ZONE}"
        sock.sendto(dns.message.make_query(name, "A").to_wire(), target)
        sock.recv(4096)
        if n % 5 == 0:
            sock.sendto(os.urandom(64), target)
    sock.close()
    tests, resolvers = server.store.size()
    assert tests <= 50 and resolvers <= 50 * 4
    assert query(server, f"{new_id()}.{ZONE}").rcode() == dns.rcode.NOERROR


def test_resolvers_per_test_are_capped() -> None:
    store = LeakStore(ttl_s=60, max_tests=10, max_resolvers_per_test=3)
    for n in range(10):
        store.record("aa" * 8, f"192.0.2.{n}", "A", now=0)
    assert [r.ip for r in store.results("aa" * 8, now=1)] == ["192.0.2.0", "192.0.2.1", "192.0.2.2"]


def test_country_lookup_covers_both_families() -> None:
    assert COUNTRIES.country("192.0.2.53") == "DE"
    assert COUNTRIES.country("2001:db8::53") == "SE"
    assert COUNTRIES.country("203.0.113.1") is None
    assert COUNTRIES.country("not-an-ip") is None
