"""Windscribe: the server list its mobile apps read, public and unauthenticated.

Evidence (checked 2026-12-04):
- gluetun, internal/provider/windscribe/updater/api.go and servers.go (github.com/qdm12/
  gluetun @ b119325): ``GET https://assets.windscribe.com/serverlist/mob-v2/1/<n>``, the
  last segment a cache breaker (gluetun sends the Unix time). ``data`` holds regions
  (``name``), each with ``groups``: ``city``, ``wg_pubkey``, ``ovpn_x509`` and ``nodes``
  of ``hostname``, ``ip``, ``ip2`` (OpenVPN entries) and ``ip3`` (WireGuard entry; absent
  on nodes without WireGuard).
- A TypeScript Windscribe client's types (an "nself" VPN plugin) show the region's
  ``country_code`` and a node's ``pro`` flag. Evidence for ``country_code`` is this one
  third-party client: when it is missing, the region name is tried as a country name,
  which fails loudly for names such as "US East".

Quirks: several IPs per node; region names are not countries ("US East"). No ports in
the list.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.gpu.providers.base import record
from site_builder.pull.servers.listing import (
    OPENVPN_TCP,
    OPENVPN_UDP,
    WIREGUARD,
    ListedServer,
    Protocol,
    addresses,
    merge,
)
from site_builder.pull.servers.providers.base import (
    ServerListAdapter,
    body,
    expect,
    optional_text,
    text,
)

URL = "https://assets.windscribe.com/serverlist/mob-v2/1/"


class WindscribeAdapter(ServerListAdapter):
    slug = "windscribe"
    name = "Windscribe"
    website = "https://windscribe.com"
    requests = (("serverlist", URL),)

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        url = self.url(f"{URL}{int(time.time())}")  # the cache breaker, as the apps send it
        response = await http.get(url, headers=self.headers(credentials))
        return [record("serverlist", response)]

    def parse(self, responses: list[RawResponse]) -> list[ListedServer]:
        data = expect(body(responses, self.slug, "serverlist"), dict, self.slug, "serverlist")
        servers = []
        for index, region in enumerate(expect(data.get("data"), list, self.slug, "data")):
            expect(region, dict, self.slug, f"region {index}")
            name = text(region, "name", self.slug, f"region {index}")
            country = optional_text(region, "country_code") or name
            for group in expect(region.get("groups") or [], list, self.slug, f"{name}.groups"):
                key = optional_text(group, "wg_pubkey")
                for node in expect(group.get("nodes") or [], list, self.slug, f"{name}.nodes"):
                    hostname = text(node, "hostname", self.slug, name).lower()
                    ipv4, ipv6 = addresses(
                        [node.get("ip"), node.get("ip2"), node.get("ip3")], self.slug, hostname
                    )
                    protocols = [Protocol(OPENVPN_TCP), Protocol(OPENVPN_UDP)]
                    if node.get("ip3"):
                        protocols.append(Protocol(WIREGUARD, public_key=key))
                    servers.append(
                        ListedServer(
                            provider=self.slug,
                            hostname=hostname,
                            country=country,
                            city=optional_text(group, "city"),
                            ipv4=ipv4,
                            ipv6=ipv6,
                            protocols=tuple(protocols),
                            name=name,
                        )
                    )
        return merge(servers)
