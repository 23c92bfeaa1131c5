"""IVPN: its public server statistics, one request.

Evidence (checked 2026-12-04):
- gluetun, internal/provider/ivpn/updater/api.go, servers.go and api_test.go (github.com/
  qdm12/gluetun @ b119325): ``GET https://api.ivpn.net/v4/servers/stats``, no auth; the
  body is ``{"servers": [...]}``, each with ``hostnames`` (``openvpn`` and/or
  ``wireguard``, one host each), ``is_active``, ``country`` (a name), ``city`` ("Toronto,
  ON": a city, then a region after ", "), ``isp`` and ``wg_public_key``. gluetun counts
  each hostname as its own server, the OpenVPN one offering UDP and TCP.

Quirks: no IP addresses (gluetun resolves the hostnames; we store none); inactive servers
stay in the list; the region after the city is dropped. No ports in the list.
"""

from __future__ import annotations

from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.servers.listing import (
    OPENVPN_TCP,
    OPENVPN_UDP,
    WIREGUARD,
    ListedServer,
    Protocol,
)
from site_builder.pull.servers.providers.base import (
    ServerListAdapter,
    body,
    expect,
    optional_text,
    text,
)


class IvpnAdapter(ServerListAdapter):
    slug = "ivpn"
    name = "IVPN"
    website = "https://www.ivpn.net"
    requests = (("stats", "https://api.ivpn.net/v4/servers/stats"),)

    def parse(self, responses: list[RawResponse]) -> list[ListedServer]:
        data = expect(body(responses, self.slug, "stats"), dict, self.slug, "stats")
        servers = []
        for index, entry in enumerate(expect(data.get("servers"), list, self.slug, "servers")):
            where = f"server {index}"
            expect(entry, dict, self.slug, where)
            hostnames = expect(entry.get("hostnames") or {}, dict, self.slug, f"{where}.hostnames")
            city = optional_text(entry, "city")
            common = {
                "provider": self.slug,
                "country": text(entry, "country", self.slug, where),
                "city": city.split(", ", 1)[0] if city else None,
                "active": entry.get("is_active") is True,
            }
            openvpn = hostnames.get("openvpn")
            if isinstance(openvpn, str) and openvpn:
                servers.append(
                    ListedServer(
                        hostname=openvpn.lower(),
                        protocols=(Protocol(OPENVPN_TCP), Protocol(OPENVPN_UDP)),
                        **common,  # type: ignore[arg-type]
                    )
                )
            wireguard = hostnames.get("wireguard")
            if isinstance(wireguard, str) and wireguard:
                key = optional_text(entry, "wg_public_key")
                servers.append(
                    ListedServer(
                        hostname=wireguard.lower(),
                        protocols=(Protocol(WIREGUARD, public_key=key),),
                        **common,  # type: ignore[arg-type]
                    )
                )
        return servers
