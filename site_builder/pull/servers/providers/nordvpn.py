"""NordVPN: its public server API, one request for every server with lookup tables.

Evidence (checked 2026-12-04):
- gluetun, internal/provider/nordvpn/updater/api.go, models.go, servers.go (github.com/
  qdm12/gluetun @ b119325): ``GET https://api.nordvpn.com/v2/servers?limit=0`` (0: no
  limit, so no paging), no auth. The body holds ``servers`` plus lookup tables ``groups``,
  ``services``, ``locations`` and ``technologies`` referenced by id. Per server: ``name``
  ("Poland #128"), ``hostname``, ``status`` ("online"), ``location_ids`` (the first is
  the server's), ``technologies`` (id, status, ``metadata`` with ``public_key`` for
  WireGuard), ``group_ids``, ``service_ids`` (a server without the "vpn" service is a
  proxy only) and ``ips`` (entries of ``type`` "entry" carry ``ip.ip``). A location has
  ``country.name`` and ``country.city.name``; technology identifiers include
  ``openvpn_udp``, ``openvpn_tcp``, ``openvpn_dedicated_udp``/``_tcp`` and
  ``wireguard_udp``; group titles name categories ("P2P", "Double VPN", "Onion Over VPN",
  "Obfuscated Servers", "Standard VPN servers") and regions (type "regions").

Quirks: countries come as names, not codes; servers not "online" stay in the list; a
technology can be listed but not online. No ports in the list.
"""

from __future__ import annotations

from typing import Any

from site_builder.errors import DataError
from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.servers.listing import (
    OPENVPN_TCP,
    OPENVPN_UDP,
    WIREGUARD,
    ListedServer,
    Protocol,
    addresses,
)
from site_builder.pull.servers.providers.base import ServerListAdapter, body, expect, text

TECHNOLOGIES = {
    "openvpn_udp": OPENVPN_UDP,
    "openvpn_dedicated_udp": OPENVPN_UDP,
    "openvpn_tcp": OPENVPN_TCP,
    "openvpn_dedicated_tcp": OPENVPN_TCP,
    "wireguard_udp": WIREGUARD,
}
CATEGORIES = {
    "p2p": "p2p",
    "double vpn": "multihop",
    "onion over vpn": "tor",
    "obfuscated servers": "obfuscated",
}


class NordVpnAdapter(ServerListAdapter):
    slug = "nordvpn"
    name = "NordVPN"
    website = "https://nordvpn.com"
    requests = (("servers", "https://api.nordvpn.com/v2/servers?limit=0"),)

    def parse(self, responses: list[RawResponse]) -> list[ListedServer]:
        data = expect(body(responses, self.slug, "servers"), dict, self.slug, "servers")
        tables = {}
        for key in ("groups", "services", "locations", "technologies"):
            rows = expect(data.get(key), list, self.slug, key)
            tables[key] = {row["id"]: row for row in rows if isinstance(row, dict) and "id" in row}
        servers = []
        for index, entry in enumerate(expect(data.get("servers"), list, self.slug, "servers")):
            expect(entry, dict, self.slug, f"server {index}")
            hostname = text(entry, "hostname", self.slug, f"server {index}").lower()
            services = {
                _get(tables["services"], i, "identifier") for i in entry.get("service_ids", [])
            }
            if "vpn" not in services:
                continue  # a proxy-only server
            location_ids = entry.get("location_ids") or []
            location = tables["locations"].get(location_ids[0]) if location_ids else None
            if not isinstance(location, dict):
                raise DataError(f"{self.slug}: {hostname}: no location (ids {location_ids})")
            country = location.get("country") or {}
            city = (country.get("city") or {}).get("name")
            protocols: dict[str, Protocol] = {}
            for technology in entry.get("technologies", []):
                identifier = _get(tables["technologies"], technology.get("id"), "identifier")
                slug = TECHNOLOGIES.get(identifier)
                if slug is None or technology.get("status") != "online":
                    continue
                metadata = technology.get("metadata") or []
                keys = [m.get("value") for m in metadata if m.get("name") == "public_key"]
                key = keys[0] if keys else None
                protocols[slug] = Protocol(slug, public_key=key if slug == WIREGUARD else None)
            features = set()
            for group_id in entry.get("group_ids", []):
                title = str(_get(tables["groups"], group_id, "title") or "").lower()
                if title in CATEGORIES:
                    features.add(CATEGORIES[title])
            entries = [i for i in entry.get("ips", []) if i.get("type") == "entry"]
            ips = [(i.get("ip") or {}).get("ip") for i in entries]
            ipv4, ipv6 = addresses(ips, self.slug, hostname)
            servers.append(
                ListedServer(
                    provider=self.slug,
                    hostname=hostname,
                    country=text(country, "name", self.slug, f"{hostname}'s location"),
                    city=city.strip() if isinstance(city, str) and city.strip() else None,
                    ipv4=ipv4,
                    ipv6=ipv6,
                    protocols=tuple(protocols[s] for s in sorted(protocols)),
                    features=frozenset(features),
                    active=entry.get("status") == "online",
                    name=str(entry.get("name") or ""),
                )
            )
        return servers


def _get(table: dict[Any, dict[str, Any]], key: Any, field: str) -> Any:
    row = table.get(key)
    return row.get(field) if isinstance(row, dict) else None
