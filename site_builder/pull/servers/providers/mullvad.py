"""Mullvad: one public JSON array of every relay.

Evidence (checked 2026-12-04):
- gluetun, internal/provider/mullvad/updater/api.go and hosttoserver.go (github.com/qdm12/
  gluetun @ b119325): ``GET https://api.mullvad.net/www/relays/all/``, no auth, no paging;
  fields ``hostname``, ``country_name``, ``city_name``, ``active``, ``owned``,
  ``provider``, ``ipv4_addr_in``, ``ipv6_addr_in``, ``type`` ("wireguard", "openvpn",
  "bridge"; bridges are skipped) and ``pubkey`` (the WireGuard key).
- The Go client github.com/yunginnanet/mullsox (its MullvadServer struct for the same
  endpoint, api.go) and a
  Python test of a VPN-IP collector list the further fields ``country_code`` (lower case),
  ``city_code``, ``stboot`` (servers booted by System Transparency, diskless: RAM-only)
  and ``multihop_port`` (the relay takes multi-hop entries).

Quirks: ``country_name`` is "USA" for the United States, so the lower-case
``country_code`` is read first; ``ipv6_addr_in`` may be null; ``active: false`` relays stay
in the list. The list gives no ports: WireGuard is stored without one.
"""

from __future__ import annotations

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
from site_builder.pull.servers.providers.base import (
    ServerListAdapter,
    body,
    expect,
    optional_text,
    text,
)


class MullvadAdapter(ServerListAdapter):
    slug = "mullvad"
    name = "Mullvad"
    website = "https://mullvad.net"
    requests = (("relays", "https://api.mullvad.net/www/relays/all/"),)

    def parse(self, responses: list[RawResponse]) -> list[ListedServer]:
        relays = expect(body(responses, self.slug, "relays"), list, self.slug, "relays")
        servers = []
        for index, entry in enumerate(relays):
            where = f"relay {index}"
            expect(entry, dict, self.slug, where)
            kind = entry.get("type")
            if kind == "bridge":
                continue  # a bridge relays to other servers; it is not a VPN server
            hostname = text(entry, "hostname", self.slug, where).lower()
            if kind == "wireguard":
                protocols = (Protocol(WIREGUARD, public_key=optional_text(entry, "pubkey")),)
            elif kind == "openvpn":
                protocols = (Protocol(OPENVPN_UDP), Protocol(OPENVPN_TCP))
            else:
                raise DataError(f"{self.slug}: {hostname}: unknown relay type {kind!r}")
            ipv4, ipv6 = addresses(
                [entry.get("ipv4_addr_in"), entry.get("ipv6_addr_in")], self.slug, hostname
            )
            features = set()
            if entry.get("stboot") is True:
                features.add("ram_only")
            if entry.get("multihop_port"):
                features.add("multihop")
            owned = entry.get("owned")
            servers.append(
                ListedServer(
                    provider=self.slug,
                    hostname=hostname,
                    country=optional_text(entry, "country_code")
                    or text(entry, "country_name", self.slug, hostname),
                    city=optional_text(entry, "city_name"),
                    ipv4=ipv4,
                    ipv6=ipv6,
                    protocols=protocols,
                    features=frozenset(features),
                    owned=owned if isinstance(owned, bool) else None,
                    active=entry.get("active") is True,
                )
            )
        return servers
