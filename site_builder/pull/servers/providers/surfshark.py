"""Surfshark: four public cluster lists, one per kind of server.

Evidence (checked 2026-12-04):
- gluetun, internal/provider/surfshark/updater/api.go and servers.go (github.com/qdm12/
  gluetun @ b119325): ``GET https://api.surfshark.com/v4/server/clusters/<kind>`` for
  each kind ``generic``, ``double``, ``static`` and ``obfuscated``, no auth, each a JSON
  array of ``connectionName`` (the hostname), ``region``, ``country`` (a name),
  ``location`` (the city) and ``pubKey`` (WireGuard; empty on servers without it).
  gluetun notes every server from the API takes OpenVPN over UDP and TCP.

Quirks: no IP addresses at all (gluetun resolves the hostnames; we store none rather than
resolve at parse time); countries are names. "double" servers are Surfshark's multi-hop,
"obfuscated" its camouflage servers; "static" ones keep a static IP (not stored as a
feature). No ports in the list.
"""

from __future__ import annotations

from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.servers.listing import (
    OPENVPN_TCP,
    OPENVPN_UDP,
    WIREGUARD,
    ListedServer,
    Protocol,
    merge,
)
from site_builder.pull.servers.providers.base import (
    ServerListAdapter,
    body,
    expect,
    optional_text,
    text,
)

BASE = "https://api.surfshark.com/v4/server/clusters"
KINDS = {"generic": None, "double": "multihop", "static": None, "obfuscated": "obfuscated"}


class SurfsharkAdapter(ServerListAdapter):
    slug = "surfshark"
    name = "Surfshark"
    website = "https://surfshark.com"
    requests = tuple((kind, f"{BASE}/{kind}") for kind in KINDS)

    def parse(self, responses: list[RawResponse]) -> list[ListedServer]:
        servers = []
        for kind, feature in KINDS.items():
            clusters = expect(body(responses, self.slug, kind), list, self.slug, kind)
            for index, entry in enumerate(clusters):
                where = f"{kind} cluster {index}"
                expect(entry, dict, self.slug, where)
                hostname = text(entry, "connectionName", self.slug, where).lower()
                key = optional_text(entry, "pubKey")
                protocols = [Protocol(OPENVPN_TCP), Protocol(OPENVPN_UDP)]
                if key:
                    protocols.append(Protocol(WIREGUARD, public_key=key))
                servers.append(
                    ListedServer(
                        provider=self.slug,
                        hostname=hostname,
                        country=text(entry, "country", self.slug, hostname),
                        city=optional_text(entry, "location"),
                        protocols=tuple(protocols),
                        features=frozenset({feature} if feature else ()),
                    )
                )
        return merge(servers)
