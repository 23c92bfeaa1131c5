"""Answers for the delegated zone, as pure functions over dnslib records."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dnslib import AAAA, NS, QTYPE, RCODE, RR, SOA, A, DNSLabel, DNSRecord

# "<n>-<id>.<zone>" or "<id>.<zone>"; the id has at least 64 random bits (16 hex digits).
TEST_LABEL = re.compile(r"^(?:\d{1,2}-)?([0-9a-f]{16,64})$")


@dataclass(frozen=True)
class ZoneConfig:
    zone: str  # e.g. "leak.example.com"
    nameservers: tuple[str, ...]  # e.g. ("ns1.leak.example.com",)
    answer_ipv4: str | None  # where test names point (a web host or a sink)
    answer_ipv6: str | None
    hostmaster: str = "hostmaster.example.com"


@dataclass(frozen=True)
class Answer:
    reply: DNSRecord
    test_id: str | None  # set when the query named a test


def test_id_for(qname: DNSLabel, zone: DNSLabel) -> str | None:
    """The test id a query name carries, if it is '<label>.<zone>' with a valid label."""
    if not qname.matchSuffix(zone):
        return None
    labels = qname.label[: len(qname.label) - len(zone.label)]
    if len(labels) != 1:
        return None
    try:
        label = labels[0].decode("ascii").lower()  # resolvers may randomize case (0x20)
    except UnicodeDecodeError:
        return None
    match = TEST_LABEL.match(label)
    return match.group(1) if match else None


def _soa(config: ZoneConfig, zone: DNSLabel) -> RR:
    return RR(
        zone,
        QTYPE.SOA,
        ttl=0,
        rdata=SOA(config.nameservers[0], config.hostmaster, (1, 3600, 600, 86400, 0)),
    )


def answer(request: DNSRecord, config: ZoneConfig) -> Answer:
    """The authoritative reply to one query (TTL 0 everywhere: nothing may be cached)."""
    zone = DNSLabel(config.zone)
    reply = request.reply()
    reply.header.aa = 1
    reply.header.ra = 0
    if len(request.questions) != 1:
        reply.header.rcode = RCODE.FORMERR
        return Answer(reply, None)
    question = request.q
    qname, qtype = question.qname, question.qtype
    if not qname.matchSuffix(zone):
        reply.header.aa = 0
        reply.header.rcode = RCODE.REFUSED
        return Answer(reply, None)
    if qname == zone:
        if qtype in (QTYPE.NS, QTYPE.ANY):
            for name in config.nameservers:
                reply.add_answer(RR(zone, QTYPE.NS, ttl=3600, rdata=NS(name)))
        if qtype in (QTYPE.SOA, QTYPE.ANY):
            reply.add_answer(_soa(config, zone))
        if not reply.rr:
            reply.add_auth(_soa(config, zone))
        return Answer(reply, None)
    test_id = test_id_for(qname, zone)
    if test_id is None:
        reply.header.rcode = RCODE.NXDOMAIN
        reply.add_auth(_soa(config, zone))
        return Answer(reply, None)
    if qtype == QTYPE.A and config.answer_ipv4:
        reply.add_answer(RR(qname, QTYPE.A, ttl=0, rdata=A(config.answer_ipv4)))
    elif qtype == QTYPE.AAAA and config.answer_ipv6:
        reply.add_answer(RR(qname, QTYPE.AAAA, ttl=0, rdata=AAAA(config.answer_ipv6)))
    else:
        reply.add_auth(_soa(config, zone))  # NODATA: the name exists, not this type
    return Answer(reply, test_id)
