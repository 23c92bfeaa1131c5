"""AirVPN: its public status API, one request.

Evidence (checked 2026-12-04):
- gluetun, internal/provider/airvpn/updater/api.go and servers.go (github.com/qdm12/
  gluetun @ b119325): ``GET https://airvpn.org/api/status/``, no auth; ``servers`` hold
  ``public_name`` (a star's name), ``country_name``, ``country_code``, ``location`` (the
  city), ``continent``, entry addresses ``ip_v4_in1`` to ``ip_v4_in4`` and ``ip_v6_in1``
  to ``ip_v6_in4``, and ``health`` ("ok" when serving). gluetun notes that every server
  takes WireGuard (entry 1) and OpenVPN over UDP and TCP (entries 1 to 4), and uses one
  WireGuard public key for all servers, which the list itself does not carry.

Quirks: a server has no hostname in the list, so its public name (lower case) is its
identity; eight entry addresses per server; servers with health other than "ok" stay in
the list. No ports in the list.
"""

from __future__ import annotations

from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.servers.listing import (
    OPENVPN_TCP,
    OPENVPN_UDP,
    WIREGUARD,
    ListedServer,
    Protocol,
    addresses,
)
from site_builder.pull.servers.providers.base import (
    ServerListAdapter,
    body,
    expect,
    optional_text,
    text,
)


class AirVpnAdapter(ServerListAdapter):
    slug = "airvpn"
    name = "AirVPN"
    website = "https://airvpn.org"
    requests = (("status", "https://airvpn.org/api/status/"),)

    def parse(self, responses: list[RawResponse]) -> list[ListedServer]:
        data = expect(body(responses, self.slug, "status"), dict, self.slug, "status")
        servers = []
        for index, entry in enumerate(expect(data.get("servers"), list, self.slug, "servers")):
            expect(entry, dict, self.slug, f"server {index}")
            name = text(entry, "public_name", self.slug, f"server {index}")
            ips = [entry.get(f"ip_v{v}_in{n}") for v in (4, 6) for n in (1, 2, 3, 4)]
            ipv4, ipv6 = addresses(ips, self.slug, name)
            servers.append(
                ListedServer(
                    provider=self.slug,
                    hostname=name.lower(),
                    country=optional_text(entry, "country_code")
                    or text(entry, "country_name", self.slug, name),
                    city=optional_text(entry, "location"),
                    ipv4=ipv4,
                    ipv6=ipv6,
                    protocols=(Protocol(OPENVPN_TCP), Protocol(OPENVPN_UDP), Protocol(WIREGUARD)),
                    active=entry.get("health") == "ok",
                    name=name,
                )
            )
        return servers
