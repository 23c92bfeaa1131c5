"""The providers' own server lists as pages show them: how many servers each provider
lists per country, protocol and feature, which providers list servers in a country or
city, and which listed servers are not yet measured (never with figures)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, String, select, type_coerce

from site_builder.db.models import Country, VpnCity, VpnProvider, VpnServer
from site_builder.db.models_servers import VpnServerListing
from site_builder.render.state import rows_digest

servers_t = VpnServer.__table__
listings_t = VpnServerListing.__table__
providers_t = VpnProvider.__table__
countries_t = Country.__table__
cities_t = VpnCity.__table__

FEATURE_NAMES = {
    "p2p": "P2P",
    "streaming": "Streaming-optimised",
    "multihop": "Multi-hop",
    "ram_only": "RAM-only",
    "tor": "Tor over VPN",
    "obfuscated": "Obfuscated",
    "port_forwarding": "Port forwarding",
    "virtual_location": "Virtual location",
    "free": "Free tier",
    "owned": "Owned hardware",
    "rented": "Rented hardware",
}
UNMEASURED_SHOWN = 50  # per page: the rest are counted


@dataclass
class Inventory:
    servers: list[dict[str, Any]] = field(default_factory=list)
    protocol_names: dict[str, str] = field(default_factory=dict)
    runs: dict[int, int] = field(default_factory=dict)  # server id -> runs in the window
    min_runs: int = 1  # runs a server needs to count as measured (to be ranked)
    provider_pages: frozenset[str] = frozenset()  # providers with a page (measured servers)
    _by_provider: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _by_place: dict[tuple[str, str | None], list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_provider: dict[str, list[dict[str, Any]]] = defaultdict(list)
        by_place: dict[tuple[str, str | None], list[dict[str, Any]]] = defaultdict(list)
        for server in self.servers:
            by_provider[server["provider_slug"]].append(server)
            by_place[(server["country_slug"], None)].append(server)
            if server["city_slug"]:
                by_place[(server["country_slug"], server["city_slug"])].append(server)
        self._by_provider, self._by_place = dict(by_provider), dict(by_place)

    def of_provider(self, slug: str) -> list[dict[str, Any]]:
        return self._by_provider.get(slug, [])

    def in_place(self, country_slug: str, city_slug: str | None = None) -> list[dict[str, Any]]:
        return self._by_place.get((country_slug, city_slug), [])

    def providers(self) -> list[tuple[str, str, int]]:
        """(slug, name, listed servers) of every provider with a list in the store."""
        return [
            (slug, group[0]["provider_name"], len(group))
            for slug, group in sorted(self._by_provider.items())
        ]


def load_inventory(
    connection: Connection,
    protocol_names: dict[str, str],
    stats: list[dict[str, Any]],
    min_runs: int,
) -> Inventory:
    """Listed servers that are enabled and not retired, in a stable order."""
    rows = connection.execute(
        select(
            servers_t.c.id,
            servers_t.c.hostname,
            servers_t.c.provider_slug,
            providers_t.c.name.label("provider_name"),
            countries_t.c.name.label("country_name"),
            countries_t.c.slug.label("country_slug"),
            cities_t.c.name.label("city_name"),
            cities_t.c.slug.label("city_slug"),
            listings_t.c.protocols,
            listings_t.c.features,
            listings_t.c.owned,
            listings_t.c.listed_active,
        )
        .join(listings_t, listings_t.c.server_id == servers_t.c.id)
        .join(providers_t, providers_t.c.slug == servers_t.c.provider_slug)
        .join(countries_t, countries_t.c.code == servers_t.c.country_code)
        .outerjoin(cities_t, cities_t.c.id == servers_t.c.city_id)
        .where(servers_t.c.enabled.is_(True), servers_t.c.status != "retired")
        .order_by(servers_t.c.provider_slug, servers_t.c.hostname)
    )
    servers = []
    for row in rows:
        server = dict(row._mapping)
        server["protocols"] = sorted(server["protocols"])
        features = list(server["features"])
        if server["owned"] is not None:
            features.append("owned" if server["owned"] else "rented")
        server["features"] = sorted(features)
        servers.append(server)
    runs = {s["id"]: s["runs"] for s in stats}
    pages = frozenset(s["provider_slug"] for s in stats)
    return Inventory(servers, protocol_names, runs, min_runs, pages)


def fingerprint(connection: Connection) -> list[Any]:
    """What the inventory blocks read beyond `vpn_servers`, for the site's fingerprint: the
    listings as stored, digested a batch at a time (the run log is not read by pages, so a
    replay of the same lists leaves the site unchanged)."""
    return [
        rows_digest(
            connection.execution_options(yield_per=10_000).execute(
                select(*(type_coerce(c, String) for c in listings_t.c)).order_by(
                    listings_t.c.server_id
                )
            )
        )
    ]


def _counts(values: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {"name": name, "servers": n}
        for name, n in sorted(Counter(values).items(), key=lambda i: (-i[1], i[0]))
    ]


def provider_block(inventory: Inventory | None, slug: str) -> dict[str, Any] | None:
    """A provider page's inventory: its listed servers by country, protocol and feature,
    and those not yet measured."""
    if inventory is None:
        return None
    servers = inventory.of_provider(slug)
    if not servers:
        return None
    return {
        "title": "Servers in the provider's list",
        "servers": len(servers),
        "inactive": sum(not s["listed_active"] for s in servers),
        "by_country": _counts(s["country_name"] for s in servers),
        "by_protocol": _counts(
            inventory.protocol_names.get(p, p) for s in servers for p in s["protocols"]
        ),
        "no_protocol": sum(not s["protocols"] for s in servers),
        "providers": [],
        "by_feature": _counts(FEATURE_NAMES.get(f, f) for s in servers for f in s["features"]),
        **_unmeasured(inventory, servers),
    }


def place_block(
    inventory: Inventory | None, country_slug: str, city_slug: str | None = None
) -> dict[str, Any] | None:
    """A country or city page's inventory: the providers listing servers there, and the
    listed servers there not yet measured."""
    if inventory is None:
        return None
    servers = inventory.in_place(country_slug, city_slug)
    if not servers:
        return None
    providers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for server in servers:
        providers[server["provider_name"]].append(server)
    return {
        "title": "Providers listing servers here",
        "servers": len(servers),
        "inactive": sum(not s["listed_active"] for s in servers),
        "by_country": [],
        "by_protocol": [],
        "by_feature": [],
        "no_protocol": 0,
        "providers": [
            {
                "name": name,
                "servers": len(group),
                "url": f"/providers/{group[0]['provider_slug']}/"
                if group[0]["provider_slug"] in inventory.provider_pages
                else None,
            }
            for name, group in sorted(providers.items())
        ],
        **_unmeasured(inventory, servers),
    }


def _unmeasured(inventory: Inventory, servers: list[dict[str, Any]]) -> dict[str, Any]:
    """The servers with fewer runs than a ranking needs: named, never given figures."""
    waiting = [s for s in servers if inventory.runs.get(s["id"], 0) < inventory.min_runs]
    return {
        "unmeasured": [
            {
                "hostname": s["hostname"],
                "provider": s["provider_name"],
                "city": s["city_name"] or "",
            }
            for s in waiting[:UNMEASURED_SHOWN]
        ],
        "unmeasured_count": len(waiting),
    }


def listings_of(connection: Connection, server_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What the provider's list says about these servers (for their pages): entry
    addresses, protocols with ports and WireGuard key, features, owned or rented."""
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(server_ids), 500):
        rows = connection.execute(
            select(
                listings_t.c.server_id,
                listings_t.c.ipv4,
                listings_t.c.ipv6,
                listings_t.c.protocols,
                listings_t.c.features,
                listings_t.c.owned,
                listings_t.c.listed_active,
                listings_t.c.last_listed_at,
            ).where(listings_t.c.server_id.in_(server_ids[start : start + 500]))
        )
        for row in rows:
            features = [FEATURE_NAMES.get(f, f) for f in sorted(row.features)]
            if row.owned is not None:
                features.append(FEATURE_NAMES["owned" if row.owned else "rented"])
            found[row.server_id] = {
                "addresses": [*row.ipv4, *row.ipv6],
                "protocols": [
                    (slug, tuple(value.get("ports", [])), value.get("public_key") or "")
                    for slug, value in sorted(row.protocols.items())
                ],
                "features": features,
                "active": row.listed_active,
                "listed": row.last_listed_at.date().isoformat(),
            }
    return found
