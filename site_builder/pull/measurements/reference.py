"""Checked-in VPN reference data (probes, server agents, protocols, platforms, cities),
synced with the store's countries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slugify import slugify
from sqlalchemy import Connection

from site_builder.datafiles import read_toml
from site_builder.db.countries import country_rows
from site_builder.db.models import (
    Country,
    VpnCity,
    VpnProbeLocation,
    VpnProtocol,
    VpnStreamingPlatform,
)
from site_builder.db.models_agents import VpnAgent
from site_builder.db.upsert import upsert
from site_builder.errors import ConfigError


def load_reference(path: Path) -> dict[str, list[dict[str, Any]]]:
    raw = read_toml(path, "VPN reference data")
    for key in ("probe", "protocol", "platform", "city"):
        if not isinstance(raw.get(key), list) or not raw[key]:
            raise ConfigError(f"{path}: needs at least one [[{key}]] entry")
    agents = raw.setdefault("agent", [])
    probes = {p["id"] for p in raw["probe"]}
    for agent in agents:
        if not all(isinstance(agent.get(k), str) for k in ("id", "provider", "hostname")):
            raise ConfigError(f"{path}: every [[agent]] needs id, provider and hostname")
        if agent["id"] in probes:
            raise ConfigError(f"{path}: agent id {agent['id']!r} is also a probe id")
    return raw


def known_agents(reference: dict[str, list[dict[str, Any]]]) -> dict[str, tuple[str, str]]:
    """agent id -> (provider slug, hostname in lower case) of the server it runs on."""
    return {a["id"]: (a["provider"], a["hostname"].lower()) for a in reference.get("agent", [])}


def sync_reference(connection: Connection, reference: dict[str, list[dict[str, Any]]]) -> None:
    """Upsert countries and the checked-in reference tables."""
    upsert(connection, Country.__table__, country_rows(), key=["code"])
    upsert(
        connection,
        VpnProbeLocation.__table__,
        [
            {
                "id": p["id"],
                "name": p["name"],
                "city": p["city"],
                "country_code": p["country"],
                "latitude": p["latitude"],
                "longitude": p["longitude"],
            }
            for p in reference["probe"]
        ],
        key=["id"],
    )
    upsert(
        connection,
        VpnAgent.__table__,
        [
            {"id": a["id"], "provider_slug": a["provider"], "hostname": a["hostname"]}
            for a in reference.get("agent", [])
        ],
        key=["id"],
    )
    upsert(connection, VpnProtocol.__table__, reference["protocol"], key=["slug"])
    upsert(connection, VpnStreamingPlatform.__table__, reference["platform"], key=["slug"])
    upsert(
        connection,
        VpnCity.__table__,
        [
            {
                "country_code": c["country"],
                "name": c["name"],
                "slug": slugify(c["name"]),
                "latitude": c["latitude"],
                "longitude": c["longitude"],
            }
            for c in reference["city"]
        ],
        key=["country_code", "slug"],
        update=["name", "latitude", "longitude"],
    )
