"""Private Internet Access: the signed server list its apps and scripts read.

Evidence (checked 2026-12-04):
- gluetun, internal/provider/privateinternetaccess/updater/api.go (github.com/qdm12/
  gluetun @ b119325): ``GET https://serverlist.piaservers.net/vpninfo/servers/v7``, no
  auth; the body is one line of JSON followed by a newline and a signature, which is cut
  off before decoding. ``regions`` hold ``name``, ``dns``, ``port_forward``, ``offline``
  and ``servers`` by protocol: ``ovpnudp`` and ``ovpntcp`` entries of ``ip`` and ``cn``
  (the server's common name).
- PIA's own scripts, github.com/pia-foss/manual-connections, get_region.sh: the same list
  (at ``/v6``) read with ``head -1``; ``regions[]`` with ``id``, ``name``, ``dns``,
  ``port_forward``, ``geo`` (a "geolocated region") and ``servers.meta``, ``wg``,
  ``ovpntcp``, ``ovpnudp`` and ``ikev2``, each entry an ``ip`` and a ``cn``.
- Third-party readers of the same list (a Python region lister splitting the body on its
  first newline; a TypeScript PIA client's types) show ``id``, ``country`` (a code),
  ``geo`` (a virtual location: the server is not in that country) and the ``wg`` and
  ``ikev2`` server lists. A VPN client's documentation of the list shows the top-level
  ``groups``: per protocol group (``ovpnudp``, ``ovpntcp``, ``wg``, ``ikev2``) its
  ``ports``.
- The PrivateInternetAccessWatch table (github.com/scriptzteam/PrivateInternetAccessWatch)
  shows real regions: "AU Sydney", "US Florida", "CA Ontario", "Guatemala".

Quirks: one physical server (one ``cn``, e.g. "sydney428") appears under each protocol
with a different IP, so servers are keyed by ``cn`` with several IPs. Region names are a
country alone, or a country code and a city or state: the city is kept only where the
city table knows it. ``offline`` regions stay in the list.
"""

from __future__ import annotations

import json
from typing import Any

from site_builder.errors import DataError
from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.servers.listing import (
    IKEV2,
    OPENVPN_TCP,
    OPENVPN_UDP,
    WIREGUARD,
    ListedServer,
    Protocol,
    addresses,
    merge,
)
from site_builder.pull.servers.providers.base import ServerListAdapter, expect, text

GROUPS = {"wg": WIREGUARD, "ovpnudp": OPENVPN_UDP, "ovpntcp": OPENVPN_TCP, "ikev2": IKEV2}


class PiaAdapter(ServerListAdapter):
    slug = "pia"
    name = "Private Internet Access"
    website = "https://www.privateinternetaccess.com"
    requests = (("servers", "https://serverlist.piaservers.net/vpninfo/servers/v7"),)

    def parse(self, responses: list[RawResponse]) -> list[ListedServer]:
        data = expect(_first_line_json(responses, self.slug), dict, self.slug, "servers")
        groups = data.get("groups") or {}
        ports = {
            slug: tuple(sorted({int(p) for g in groups.get(key) or [] for p in g.get("ports", [])}))
            for key, slug in GROUPS.items()
        }
        servers = []
        for index, region in enumerate(expect(data.get("regions"), list, self.slug, "regions")):
            where = f"region {index}"
            expect(region, dict, self.slug, where)
            name = text(region, "name", self.slug, where)
            country = text(region, "country", self.slug, name)
            rest = name[len(country) :].strip() if name.upper().startswith(f"{country} ") else ""
            features = set()
            if region.get("port_forward") is True:
                features.add("port_forwarding")
            if region.get("geo") is True:
                features.add("virtual_location")
            by_protocol = expect(region.get("servers") or {}, dict, self.slug, f"{name}.servers")
            for key, slug in GROUPS.items():
                for entry in by_protocol.get(key) or []:
                    hostname = text(entry, "cn", self.slug, name).lower()
                    ipv4, ipv6 = addresses([entry.get("ip")], self.slug, hostname)
                    servers.append(
                        ListedServer(
                            provider=self.slug,
                            hostname=hostname,
                            country=country,
                            city=rest or None,
                            city_is_region=True,
                            ipv4=ipv4,
                            ipv6=ipv6,
                            protocols=(Protocol(slug, ports[slug]),),
                            features=frozenset(features),
                            active=region.get("offline") is not True,
                            name=name,
                        )
                    )
        return merge(servers)


def _first_line_json(responses: list[RawResponse], provider: str) -> Any:
    """The JSON before the signature: PIA appends a newline and a base64 signature."""
    response = next((r for r in responses if r.name == "servers"), None)
    if response is None:
        raise DataError(f"{provider}: no 'servers' response in the fetched data")
    first = response.body.lstrip().split("\n", 1)[0]
    if "html" in response.content_type.lower() or first[:1] == "<":
        raise DataError(f"{provider}: servers returned HTML, not JSON: {first[:60]!r}")
    try:
        return json.loads(first)
    except json.JSONDecodeError as exc:
        raise DataError(f"{provider}: servers is not valid JSON ({exc.msg})") from None
