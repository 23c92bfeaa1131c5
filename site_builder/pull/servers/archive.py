"""An archive of server lists read back as an inventory, without a store: what the demo
generator needs to invent probe runs against the servers the lists name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from site_builder.pull.gpu import snapshot
from site_builder.pull.servers.places import Places
from site_builder.pull.servers.providers import all_adapters


@dataclass(frozen=True)
class InventoryServer:
    provider: str
    provider_name: str
    hostname: str
    ip: str | None  # the first entry address the list gives, if any
    country: str  # ISO alpha-2
    city: str | None
    coords: tuple[float, float] | None  # from the city table; None when not geocoded
    protocols: tuple[str, ...]
    active: bool


def read_inventory(folder: Path, reference: Mapping[str, Any]) -> list[InventoryServer]:
    """Every server of every provider in the archive, normalised as `pull servers` does,
    in a stable order (provider, hostname)."""
    places = Places.from_reference(reference)
    available = snapshot.read_manifest(folder)["providers"]
    assert isinstance(available, dict)
    servers = []
    for adapter in all_adapters():
        if adapter.slug not in available:
            continue
        for listed in adapter.parse(snapshot.read_provider(folder, adapter.slug)):
            code = places.country(listed.country, adapter.slug)
            city = places.city(code, listed.city, region=listed.city_is_region)
            coords = (
                (city.latitude, city.longitude)
                if city and city.latitude is not None and city.longitude is not None
                else None
            )
            servers.append(
                InventoryServer(
                    provider=adapter.slug,
                    provider_name=adapter.name,
                    hostname=listed.hostname,
                    ip=(listed.ipv4 + listed.ipv6 + (None,))[0],
                    country=code,
                    city=city.name if city else None,
                    coords=coords,
                    protocols=tuple(sorted(p.slug for p in listed.protocols)),
                    active=listed.active,
                )
            )
    return sorted(servers, key=lambda s: (s.provider, s.hostname))
