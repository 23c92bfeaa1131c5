"""What a provider's server list says about one server, in the provider's own terms.

Adapters turn raw responses into `ListedServer`s (pure, no I/O); `places` then maps the
country and city as the provider spells them to one code and one name."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from site_builder.errors import DataError

# The protocol slugs of data/vpn/reference.toml.
WIREGUARD, OPENVPN_UDP, OPENVPN_TCP, IKEV2 = "wireguard", "openvpn-udp", "openvpn-tcp", "ikev2"
# Features a list can state; `owned` is kept apart (True, False or unknown).
FEATURES = frozenset(
    {
        "p2p",
        "streaming",
        "multihop",
        "ram_only",
        "tor",
        "obfuscated",
        "port_forwarding",
        "virtual_location",
        "free",
    }
)


@dataclass(frozen=True)
class Protocol:
    """One protocol a server offers: its ports (empty when the list names none) and, for
    WireGuard, the server's public key."""

    slug: str
    ports: tuple[int, ...] = ()
    public_key: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ports": list(self.ports)}
        if self.public_key:
            data["public_key"] = self.public_key
        return data


@dataclass(frozen=True)
class ListedServer:
    provider: str
    hostname: str  # lower case; the server's identity within its provider
    country: str  # as the list gives it: a name ("Sweden") or a code ("se")
    city: str | None  # as the list gives it; None when it names none
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()
    protocols: tuple[Protocol, ...] = ()
    features: frozenset[str] = field(default_factory=frozenset)
    owned: bool | None = None  # True owned, False rented, None: the list does not say
    active: bool = True  # False: the list names it but flags it offline or disabled
    name: str = ""  # the provider's display name when it has one ("Poland #128")
    # The list names a region that is sometimes a city ("AU Sydney", "US Florida"): kept
    # as the city only when the checked-in city table knows that name in that country.
    city_is_region: bool = False

    def protocol(self, slug: str) -> Protocol | None:
        return next((p for p in self.protocols if p.slug == slug), None)


def addresses(values: list[Any], provider: str, where: str) -> tuple[tuple[str, ...], ...]:
    """Split address strings into (IPv4, IPv6) tuples, each sorted and without duplicates;
    empty strings and nulls are skipped, anything else unparsable is a DataError."""
    v4: set[ipaddress.IPv4Address] = set()
    v6: set[ipaddress.IPv6Address] = set()
    for value in values:
        if value in (None, ""):
            continue
        try:
            address = ipaddress.ip_address(str(value).strip())
        except ValueError:
            raise DataError(f"{provider}: {where}: {value!r} is not an IP address") from None
        (v4 if address.version == 4 else v6).add(address)  # type: ignore[arg-type]
    return tuple(str(a) for a in sorted(v4)), tuple(str(a) for a in sorted(v6))


def merge(servers: list[ListedServer]) -> list[ListedServer]:
    """One entry per hostname: lists that name a server once per protocol or per cluster
    are merged (addresses, protocols and features united; active if any entry is)."""
    by_host: dict[str, ListedServer] = {}
    for server in servers:
        seen = by_host.get(server.hostname)
        if seen is None:
            by_host[server.hostname] = server
            continue
        protocols = {p.slug: p for p in seen.protocols}
        for protocol in server.protocols:
            old = protocols.get(protocol.slug)
            if old is None:
                protocols[protocol.slug] = protocol
            else:
                protocols[protocol.slug] = Protocol(
                    protocol.slug,
                    tuple(sorted(set(old.ports) | set(protocol.ports))),
                    old.public_key or protocol.public_key,
                )
        by_host[server.hostname] = ListedServer(
            provider=seen.provider,
            hostname=seen.hostname,
            country=seen.country,
            city=seen.city or server.city,
            ipv4=tuple(sorted(set(seen.ipv4) | set(server.ipv4), key=ipaddress.ip_address)),
            ipv6=tuple(sorted(set(seen.ipv6) | set(server.ipv6), key=ipaddress.ip_address)),
            protocols=tuple(protocols[s] for s in sorted(protocols)),
            features=seen.features | server.features,
            owned=seen.owned if seen.owned is not None else server.owned,
            active=seen.active or server.active,
            name=seen.name or server.name,
            city_is_region=seen.city_is_region,
        )
    return [by_host[h] for h in sorted(by_host)]
