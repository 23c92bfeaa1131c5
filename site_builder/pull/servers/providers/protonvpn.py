"""Proton VPN: the logical-servers list its apps read, behind an account session.

Evidence (checked 2026-12-04):
- gluetun, internal/provider/protonvpn/updater/api.go and servers.go (github.com/qdm12/
  gluetun @ b119325): ``GET https://account.proton.me/api/vpn/logicals`` with a session
  (headers ``Cookie``, ``x-pm-uid``, ``x-pm-appversion``, ``x-pm-locale``; gluetun gets
  the session by an SRP login with an account's e-mail and password). The body is
  ``{"LogicalServers": [...]}``; a logical server has ``Name``, ``ExitCountry`` (a code),
  ``City`` (may be null), ``Features`` (bits: 1 Secure Core, 2 Tor, 4 P2P, 8 streaming),
  ``Tier`` (0 free) and ``Servers``, the physical servers: ``EntryIP``, ``ExitIP``,
  ``Domain``, ``Status`` (0 disabled) and ``X25519PublicKey`` (WireGuard).

Evidence is thinner here: the list is not public any more (gluetun logs in), so this
adapter needs ``PROTONVPN_UID`` and ``PROTONVPN_SESSION_COOKIE`` from an account session,
and ``PROTONVPN_APP_VERSION``, the app version that session was made with (gluetun's
version.go sends "web-account@" and the newest ``proton-account@`` tag of
github.com/ProtonMail/WebClients, as Proton refuses outdated versions); it is skipped
without them. Several logical servers share one physical server (one
``Domain``): they are merged. Secure Core is Proton's multi-hop. No ports in the list.
"""

from __future__ import annotations

from collections.abc import Mapping

from site_builder.pull.gpu.offer import RawResponse
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

FEATURE_BITS = {1: "multihop", 2: "tor", 4: "p2p", 8: "streaming"}


class ProtonVpnAdapter(ServerListAdapter):
    slug = "protonvpn"
    name = "Proton VPN"
    website = "https://protonvpn.com"
    requests = (("logicals", "https://account.proton.me/api/vpn/logicals"),)
    credential_env = ("PROTONVPN_UID", "PROTONVPN_SESSION_COOKIE", "PROTONVPN_APP_VERSION")

    def headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
        return {
            "Accept": "application/json",
            "Cookie": credentials["PROTONVPN_SESSION_COOKIE"],
            "x-pm-uid": credentials["PROTONVPN_UID"],
            "x-pm-appversion": credentials["PROTONVPN_APP_VERSION"],
            "x-pm-locale": "en_US",
        }

    def parse(self, responses: list[RawResponse]) -> list[ListedServer]:
        data = expect(body(responses, self.slug, "logicals"), dict, self.slug, "logicals")
        logicals = expect(data.get("LogicalServers"), list, self.slug, "LogicalServers")
        servers = []
        for index, logical in enumerate(logicals):
            where = f"logical server {index}"
            expect(logical, dict, self.slug, where)
            bits = logical.get("Features") or 0
            features = {name for bit, name in FEATURE_BITS.items() if bits & bit}
            if logical.get("Tier") == 0:
                features.add("free")
            for physical in expect(logical.get("Servers"), list, self.slug, f"{where}.Servers"):
                hostname = text(physical, "Domain", self.slug, where).lower()
                ipv4, ipv6 = addresses([physical.get("EntryIP")], self.slug, hostname)
                key = optional_text(physical, "X25519PublicKey")
                servers.append(
                    ListedServer(
                        provider=self.slug,
                        hostname=hostname,
                        country=text(logical, "ExitCountry", self.slug, where),
                        city=optional_text(logical, "City"),
                        ipv4=ipv4,
                        ipv6=ipv6,
                        protocols=(
                            Protocol(OPENVPN_TCP),
                            Protocol(OPENVPN_UDP),
                            Protocol(WIREGUARD, public_key=key),
                        ),
                        features=frozenset(features),
                        active=physical.get("Status") != 0,
                        name=str(logical.get("Name") or ""),
                    )
                )
        return merge(servers)
