"""Each server-list adapter on its evidence-shaped fixture: what it reads, and the quirks
the evidence shows (names vs codes, missing cities, several IPs, inactive servers)."""

from __future__ import annotations

import asyncio
import json
import sys

import httpx
import pytest

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.servers.listing import (
    IKEV2,
    OPENVPN_TCP,
    OPENVPN_UDP,
    WIREGUARD,
    ListedServer,
)
from site_builder.pull.servers.providers import ADAPTERS, ServerListAdapter, all_adapters
from site_builder.pull.servers.providers.airvpn import AirVpnAdapter
from site_builder.pull.servers.providers.ivpn import IvpnAdapter
from site_builder.pull.servers.providers.mullvad import MullvadAdapter
from site_builder.pull.servers.providers.nordvpn import NordVpnAdapter
from site_builder.pull.servers.providers.pia import PiaAdapter
from site_builder.pull.servers.providers.privado import PrivadoAdapter
from site_builder.pull.servers.providers.protonvpn import ProtonVpnAdapter
from site_builder.pull.servers.providers.surfshark import SurfsharkAdapter
from site_builder.pull.servers.providers.windscribe import WindscribeAdapter
from tests.server_lists import fixture_body, fixture_responses, serve_lists


def parsed(adapter: ServerListAdapter, **bodies: str) -> dict[str, ListedServer]:
    return {s.hostname: s for s in adapter.parse(fixture_responses(adapter, **bodies))}


def test_at_least_eight_providers_each_with_a_cited_source() -> None:
    assert len(ADAPTERS) >= 8
    for cls in ADAPTERS:
        doc = sys.modules[cls.__module__].__doc__ or ""
        assert "Evidence" in doc and "checked 2026-12-04" in doc, cls.slug
        assert all(url.startswith("https://") for _name, url in cls.requests)


def test_mullvad_reads_codes_keys_ownership_and_ram_only_and_skips_bridges() -> None:
    servers = parsed(MullvadAdapter())
    assert "de-ber-br-001" not in servers  # a bridge, not a VPN server
    got = servers["se-got-wg-001"]
    assert (got.country, got.city, got.owned) == ("se", "Gothenburg", True)
    assert got.ipv4 and got.ipv6
    wireguard = got.protocol(WIREGUARD)
    assert wireguard is not None and wireguard.public_key and wireguard.ports == ()
    assert got.features == {"ram_only", "multihop"}
    assert servers["us-lax-wg-001"].ipv6 == ()  # null ipv6_addr_in
    assert servers["us-nyc-wg-001"].owned is False
    assert servers["us-nyc-wg-001"].city == "New York, NY"  # normalised later
    assert not servers["de-ber-wg-002"].active  # listed but flagged inactive
    assert {p.slug for p in servers["se-sto-ovpn-001"].protocols} == {OPENVPN_UDP, OPENVPN_TCP}


def test_mullvad_unknown_relay_type_is_a_changed_shape() -> None:
    relays = json.loads(fixture_body("mullvad", "relays"))
    relays[0]["type"] = "shadowsocks"
    with pytest.raises(DataError, match="unknown relay type 'shadowsocks'"):
        parsed(MullvadAdapter(), relays=json.dumps(relays))


def test_nordvpn_joins_its_lookup_tables() -> None:
    servers = parsed(NordVpnAdapter())
    assert "us-proxy-7.nordvpn.com" not in servers  # proxy service only
    poland = servers["pl101.nordvpn.com"]
    assert (poland.country, poland.city, poland.name) == ("Poland", "Warsaw", "Poland #101")
    assert poland.features == {"p2p"} and len(poland.ipv6) == 1
    assert {p.slug for p in poland.protocols} == {OPENVPN_UDP, OPENVPN_TCP, WIREGUARD}
    assert poland.protocol(WIREGUARD).public_key  # type: ignore[union-attr]
    assert servers["de104.nordvpn.com"].features == {"multihop"}  # Double VPN
    assert servers["nl112.nordvpn.com"].features == {"tor"}  # Onion Over VPN
    assert servers["us106.nordvpn.com"].features == {"obfuscated"}
    assert not servers["us108.nordvpn.com"].active  # status offline
    tokyo = servers["jp113.nordvpn.com"]
    assert OPENVPN_TCP not in {p.slug for p in tokyo.protocols}  # technology offline


def test_protonvpn_merges_logical_servers_on_one_physical_server() -> None:
    servers = parsed(ProtonVpnAdapter())
    secure_core = servers["node-ch-010.protonvpn.net"]  # CH#1 and the Secure Core CH-SE#1
    assert secure_core.country == "CH" and "multihop" in secure_core.features
    free = [s for s in servers.values() if "free" in s.features]
    assert free and all(s.country == "NL" for s in free)
    assert servers["node-uk-060.protonvpn.net"].country == "UK"  # not ISO: normalised later
    reykjavik = [s for s in servers.values() if s.country == "IS"]
    assert reykjavik and reykjavik[0].city is None  # City null
    assert not servers["node-se-030.protonvpn.net"].active  # Status 0
    geneva = servers["node-ch-020.protonvpn.net"]
    assert geneva.features == {"p2p", "streaming"}


def test_surfshark_reads_four_cluster_lists() -> None:
    servers = parsed(SurfsharkAdapter())
    assert len(servers) == 19
    assert servers["de-fra.prod.surfshark.com"].city == "Frankfurt am Main"
    assert servers["de-fra.prod.surfshark.com"].ipv4 == ()  # the list has no addresses
    double = servers["de-fra-ams-mh.prod.surfshark.com"]  # from the "double" clusters
    assert (double.country, double.features) == ("Netherlands", {"multihop"})
    manchester = servers["uk-man.prod.surfshark.com"]
    assert manchester.protocol(WIREGUARD) is None  # empty pubKey
    assert servers["tr-ist-obf.prod.surfshark.com"].features == {"obfuscated"}


def test_pia_keys_servers_by_common_name_with_an_ip_per_protocol() -> None:
    servers = parsed(PiaAdapter())
    sydney = servers["sydney428"]
    assert (sydney.country, sydney.city, sydney.city_is_region) == ("AU", "Sydney", True)
    assert len(sydney.ipv4) == 4  # one per protocol (meta is not a VPN protocol)
    assert sydney.protocol(WIREGUARD).ports == (1337,)  # type: ignore[union-attr]
    assert sydney.protocol(OPENVPN_TCP).ports == (80, 443, 853, 8443)  # type: ignore[union-attr]
    assert sydney.protocol(IKEV2) is not None
    assert "port_forwarding" in sydney.features
    assert servers["guatemala401"].city is None  # a country-only region
    assert "virtual_location" in servers["guatemala401"].features  # geo: true
    assert servers["miami417"].city == "Florida"  # a state: dropped unless a known city
    assert not servers["miami417"].active  # offline region


def test_pia_cuts_the_signature_after_the_json() -> None:
    body = fixture_body("pia", "servers")
    assert "\n\n" in body.strip()
    assert len(parsed(PiaAdapter(), servers=body)) == 16


def test_windscribe_reads_regions_groups_and_nodes() -> None:
    servers = parsed(WindscribeAdapter())
    node = servers["us-east-023.windscribe.com"]
    assert (node.country, node.city, node.name) == ("US", "New York", "US East")
    assert len(node.ipv4) == 3 and node.protocol(WIREGUARD).public_key  # type: ignore[union-attr]
    assert servers["uk-m-004.windscribe.com"].protocol(WIREGUARD) is None  # no ip3
    assert servers["jp-006.windscribe.com"].country == "Japan"  # region without a code


def test_windscribe_region_name_that_is_no_country_is_kept_for_the_normaliser() -> None:
    data = json.loads(fixture_body("windscribe", "serverlist"))
    del data["data"][0]["country_code"]
    servers = parsed(WindscribeAdapter(), serverlist=json.dumps(data))
    assert servers["us-east-023.windscribe.com"].country == "US East"  # fails at normalising


def test_ivpn_gives_each_hostname_its_own_server() -> None:
    servers = parsed(IvpnAdapter())
    assert {OPENVPN_UDP, OPENVPN_TCP} == {p.slug for p in servers["se1.gw.ivpn.net"].protocols}
    assert servers["se1.wg.ivpn.net"].protocol(WIREGUARD).public_key  # type: ignore[union-attr]
    assert servers["us-ny1.gw.ivpn.net"].city == "New York"  # "New York, NY"
    assert not servers["us-ca2.wg.ivpn.net"].active
    assert "cz1.wg.ivpn.net" not in servers  # no WireGuard hostname
    assert servers["se1.gw.ivpn.net"].ipv4 == ()


def test_airvpn_uses_public_names_and_eight_entry_addresses() -> None:
    servers = parsed(AirVpnAdapter())
    alchiba = servers["alchiba"]
    assert (alchiba.country, alchiba.name) == ("nl", "Alchiba")
    assert len(alchiba.ipv4) == 4 and len(alchiba.ipv6) == 4
    assert not servers["mirach"].active  # health "error"
    assert servers["kitalpha"].city == "Toronto, Ontario"


def test_privado_stores_no_protocols_it_does_not_list() -> None:
    servers = parsed(PrivadoAdapter())
    assert len(servers) == 12
    assert all(s.protocols == () for s in servers.values())


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.slug)
def test_html_instead_of_json_is_refused_with_the_provider_named(
    cls: type[ServerListAdapter],
) -> None:
    adapter = cls()
    html = "<!DOCTYPE html><html><body>Just a moment...</body></html>"
    bodies = {name: html for name, _url in adapter.requests}
    with pytest.raises(DataError, match=f"{adapter.slug}: .*HTML"):
        adapter.parse(fixture_responses(adapter, **bodies))


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.slug)
def test_a_changed_shape_is_refused(cls: type[ServerListAdapter]) -> None:
    adapter = cls()
    bodies = {name: json.dumps({"unexpected": []}) for name, _url in adapter.requests}
    if adapter.slug == "pia":
        bodies = {"servers": json.dumps([1, 2])}
    with pytest.raises(DataError, match=f"{adapter.slug}: "):
        adapter.parse(fixture_responses(adapter, **bodies))


def test_fetch_asks_each_provider_over_http_and_keeps_the_raw_answers() -> None:
    adapters = all_adapters()
    credentials = {
        "PROTONVPN_UID": "uid",
        "PROTONVPN_SESSION_COOKIE": "AUTH-uid=token",
        "PROTONVPN_APP_VERSION": "web-account@5.0.999.9",
    }

    async def fetch_all(base_url: str) -> dict[str, list[str]]:
        out = {}
        async with httpx.AsyncClient() as client:
            http = Http(client)
            for cls in ADAPTERS:
                adapter = cls(base_url=base_url)
                responses = await adapter.fetch(http, credentials)
                out[adapter.slug] = [r.body for r in responses]
        return out

    with serve_lists(adapters) as server:
        bodies = asyncio.run(fetch_all(server.base_url))
    for adapter in adapters:
        assert bodies[adapter.slug] == [
            fixture_body(adapter.slug, name) for name, _url in adapter.requests
        ]
    proton = [r for r in server.requests if r.path == "/api/vpn/logicals"]
    assert proton[0].headers["x-pm-uid"] == "uid"
    assert proton[0].headers["x-pm-appversion"] == "web-account@5.0.999.9"
    assert any(r.path.startswith("/serverlist/mob-v2/1/") for r in server.requests)
