"""PrivadoVPN: the server export its site publishes, one request.

Evidence (checked 2026-12-04):
- gluetun, internal/provider/privado/updater/servers.go (github.com/qdm12/gluetun @
  b119325): ``GET https://privadovpn.com/apps/servers_export.json``, no auth; the body is
  ``{"servers": [...]}`` of ``country`` (a name), ``city``, ``hostname`` and ``ip``.

Evidence is thin: the list names no protocols, ports, keys or features, so none are
stored (gluetun connects to these servers with OpenVPN, which we do not assume).
"""

from __future__ import annotations

from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.servers.listing import ListedServer, addresses
from site_builder.pull.servers.providers.base import (
    ServerListAdapter,
    body,
    expect,
    optional_text,
    text,
)


class PrivadoAdapter(ServerListAdapter):
    slug = "privado"
    name = "PrivadoVPN"
    website = "https://privadovpn.com"
    requests = (("servers", "https://privadovpn.com/apps/servers_export.json"),)

    def parse(self, responses: list[RawResponse]) -> list[ListedServer]:
        data = expect(body(responses, self.slug, "servers"), dict, self.slug, "servers")
        servers = []
        for index, entry in enumerate(expect(data.get("servers"), list, self.slug, "servers")):
            expect(entry, dict, self.slug, f"server {index}")
            hostname = text(entry, "hostname", self.slug, f"server {index}").lower()
            ipv4, ipv6 = addresses([entry.get("ip")], self.slug, hostname)
            servers.append(
                ListedServer(
                    provider=self.slug,
                    hostname=hostname,
                    country=text(entry, "country", self.slug, hostname),
                    city=optional_text(entry, "city"),
                    ipv4=ipv4,
                    ipv6=ipv6,
                )
            )
        return servers
