"""Storing one provider's list: normalise, guard, upsert, retire, log the run.

All in one transaction per provider. Nothing is deleted: a server absent from its
provider's latest successful list keeps its rows; once its last listing is 30 days older
than that list it is retired (its page goes, its history stays), unless an editor flagged
it ``static``. Only a successful list retires, so a failed or quarantined pull never does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, tuple_, update

from site_builder.db.models import VpnCity, VpnProvider, VpnServer, VpnServerProtocol
from site_builder.db.models_servers import VpnServerListing, VpnServerListRun
from site_builder.db.upsert import upsert
from site_builder.errors import DataError
from site_builder.pull.servers.listing import ListedServer
from site_builder.pull.servers.places import Places

RETIRE_AFTER = timedelta(days=30)
SHRINK_LIMIT = 0.5  # a list under half the size of the last good one is quarantined

servers_t = VpnServer.__table__
listings_t = VpnServerListing.__table__
runs_t = VpnServerListRun.__table__
cities_t = VpnCity.__table__


class Quarantined(DataError):
    """A list that parsed but must not replace the inventory (it shrank too much)."""


@dataclass
class ListResult:
    provider: str
    status: str  # ok | failed | quarantined | skipped
    servers: int = 0
    new_servers: int = 0
    retired: int = 0
    reason: str = ""
    not_geocoded: list[str] = field(default_factory=list)  # "CC/City" without coordinates


@dataclass(frozen=True)
class ProviderInfo:
    slug: str
    name: str
    website: str


def normalise(listed: list[ListedServer], places: Places) -> list[dict[str, Any]]:
    """Each server with its ISO country code and city (raises DataError on an unknown
    country, naming provider and value)."""
    rows = []
    for server in listed:
        code = places.country(server.country, server.provider)
        city = places.city(code, server.city, region=server.city_is_region)
        rows.append({"server": server, "country_code": code, "city": city})
    return rows


def previous_count(connection: Connection, provider: str) -> int | None:
    """How many servers the provider's last successful list held (None: never pulled)."""
    return connection.execute(
        select(runs_t.c.servers)
        .where(runs_t.c.provider_slug == provider, runs_t.c.status == "ok")
        .order_by(runs_t.c.listed_at.desc(), runs_t.c.id.desc())
        .limit(1)
    ).scalar()


def check_size(connection: Connection, provider: str, count: int, *, guard: bool = True) -> None:
    """An empty list is always refused; one under half the last good one unless `guard`
    is off (an editor accepted the shrink)."""
    if count == 0:
        raise Quarantined(f"{provider}: the list holds no servers; the inventory is kept")
    before = previous_count(connection, provider)
    if guard and before and count < before * SHRINK_LIMIT:
        raise Quarantined(
            f"{provider}: the list shrank from {before} to {count} servers (more than half);"
            " quarantined, the previous inventory is kept (after checking, accept it with"
            f" `site-builder pull servers --accept-shrink {provider}`)"
        )


def store_list(
    connection: Connection,
    info: ProviderInfo,
    rows: list[dict[str, Any]],
    listed_at: datetime,
) -> ListResult:
    """Upsert the provider's normalised servers as of `listed_at`, then retire the ones
    unlisted for 30 days. Flags (static) must be applied by the caller afterwards and
    before: `retire` reads them."""
    upsert(
        connection,
        VpnProvider.__table__,
        [
            {
                "slug": info.slug,
                "name": info.name,
                "website": info.website,
                "first_seen_at": listed_at,
            }
        ],
        key=["slug"],
        update=["name", "website"],
    )
    cities = {(r["city"].country, r["city"].slug): r["city"] for r in rows if r["city"]}
    known = [c for c in cities.values() if c.latitude is not None]
    upsert(
        connection,
        cities_t,
        [
            {"country_code": c.country, "name": c.name, "slug": c.slug}
            | {"latitude": c.latitude, "longitude": c.longitude}
            for c in sorted(known, key=lambda c: (c.country, c.slug))
        ],
        key=["country_code", "slug"],
        update=["name", "latitude", "longitude"],
    )
    upsert(
        connection,
        cities_t,
        [
            {"country_code": c.country, "name": c.name, "slug": c.slug}
            for c in sorted(cities.values(), key=lambda c: (c.country, c.slug))
            if c.latitude is None
        ],
        key=["country_code", "slug"],
        update=(),
    )
    city_ids = {
        (row.country_code, row.slug): row.id
        for row in connection.execute(
            select(cities_t.c.id, cities_t.c.country_code, cities_t.c.slug)
        )
    }
    keys = [(info.slug, r["server"].hostname) for r in rows]
    existing = _ids(connection, keys)
    upsert(
        connection,
        servers_t,
        [
            {
                "provider_slug": info.slug,
                "hostname": r["server"].hostname,
                "ip": (r["server"].ipv4 + r["server"].ipv6 + ("",))[0],
                "country_code": r["country_code"],
                "city_id": city_ids.get((r["city"].country, r["city"].slug)) if r["city"] else None,
                "first_seen_at": listed_at,
                "last_seen_at": listed_at,
            }
            for r in rows
        ],
        key=["provider_slug", "hostname"],
        update=["ip", "country_code", "city_id", "last_seen_at"],
        keep_greatest=["last_seen_at"],
    )
    ids = _ids(connection, keys)
    upsert(
        connection,
        listings_t,
        [_listing(ids[(info.slug, r["server"].hostname)], r["server"], listed_at) for r in rows],
        key=["server_id"],
        update=[
            "name",
            "ipv4",
            "ipv6",
            "listed_country",
            "listed_city",
            "protocols",
            "features",
            "owned",
            "listed_active",
            "last_listed_at",
        ],
        keep_greatest=["last_listed_at"],
    )
    pairs = {
        (ids[(info.slug, r["server"].hostname)], protocol.slug)
        for r in rows
        for protocol in r["server"].protocols
    }
    upsert(
        connection,
        VpnServerProtocol.__table__,
        [{"server_id": s, "protocol": p} for s, p in sorted(pairs)],
        key=["server_id", "protocol"],
        update=(),
    )
    # listed again: back from retirement
    connection.execute(
        update(servers_t)
        .where(servers_t.c.id.in_(sorted(ids.values())), servers_t.c.status == "retired")
        .values(status="unknown", retired_at=None)
    )
    return ListResult(
        provider=info.slug,
        status="ok",
        servers=len(rows),
        new_servers=len(ids) - len(existing),
        not_geocoded=sorted(
            {f"{c.country}/{c.name}" for c in cities.values() if c.latitude is None}
        ),
    )


def retire(connection: Connection, provider: str, listed_at: datetime) -> int:
    """Retire the provider's listed servers unseen in its lists for 30 days before
    `listed_at` (its latest successful list), unless flagged static."""
    stale = select(listings_t.c.server_id).where(
        listings_t.c.provider_slug == provider,
        listings_t.c.last_listed_at < listed_at - RETIRE_AFTER,
    )
    return connection.execute(
        update(servers_t)
        .where(
            servers_t.c.id.in_(stale),
            servers_t.c.static.is_(False),
            servers_t.c.status != "retired",
        )
        .values(status="retired", retired_at=listed_at)
    ).rowcount


def log_run(
    connection: Connection, result: ListResult, run_id: str, source: str, listed_at: datetime
) -> None:
    connection.execute(
        runs_t.insert().values(
            run_id=run_id,
            provider_slug=result.provider,
            source=source,
            listed_at=listed_at,
            status=result.status,
            servers=result.servers,
            new_servers=result.new_servers,
            retired=result.retired,
            reason=result.reason,
        )
    )


def inventory_count(connection: Connection, provider: str) -> int:
    """Servers of the provider that are listed and not retired."""
    return connection.execute(
        select(func.count())
        .select_from(listings_t.join(servers_t, servers_t.c.id == listings_t.c.server_id))
        .where(listings_t.c.provider_slug == provider, servers_t.c.status != "retired")
    ).scalar_one()


def _ids(connection: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(keys), 500):
        for row in connection.execute(
            select(servers_t.c.id, servers_t.c.provider_slug, servers_t.c.hostname).where(
                tuple_(servers_t.c.provider_slug, servers_t.c.hostname).in_(
                    keys[start : start + 500]
                )
            )
        ):
            found[(row.provider_slug, row.hostname)] = row.id
    return found


def _listing(server_id: int, server: ListedServer, listed_at: datetime) -> dict[str, Any]:
    return {
        "server_id": server_id,
        "provider_slug": server.provider,
        "name": server.name,
        "ipv4": list(server.ipv4),
        "ipv6": list(server.ipv6),
        "listed_country": server.country,
        "listed_city": server.city,
        "protocols": {p.slug: p.as_json() for p in server.protocols},
        "features": sorted(server.features),
        "owned": server.owned,
        "listed_active": server.active,
        "first_listed_at": listed_at,
        "last_listed_at": listed_at,
    }
