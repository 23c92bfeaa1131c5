"""Deterministic demo probe batches: realistic shapes, invented but plausible values.

The servers are the ones the demo's server lists name (``data/demo/server-lists``, the
evidence-shaped lists `pull servers` replays): real providers, countries and cities as the
providers name them. Servers a probe could not reach are left unmeasured, so the pages
show them as "not yet measured": those the list flags inactive, those it gives no
protocol for, and those without a geocoded city. A server whose list gives no address
(Surfshark, IVPN) is reported at the address the probe "resolved", from the
benchmarking range 198.18.0.0/15 (RFC 2544).

Scale "full": every measurable server measured by each of the 8 probes daily for 30 days,
heartbeats from 20 agent servers over the last 3 days, and weekly streaming checks per
provider x country x platform. Scale "small" (tests) keeps every shape with one run per
server a day for 3 days.

Latency grows with the great-circle distance from probe to server; each provider has its own
speed level; some servers have multi-day outages; streaming results differ by provider and
country. The batches are signed with the public demo keys (data/demo/probe-keys.json).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from site_builder.pull.measurements.batch import sign
from site_builder.pull.servers.archive import InventoryServer

LAST_DAY = datetime(2026, 11, 20, tzinfo=UTC)
PROTOCOLS = ("wireguard", "openvpn-udp", "openvpn-tcp", "ikev2")
PROTOCOL_OVERHEAD = {"wireguard": 1.0, "openvpn-udp": 1.15, "openvpn-tcp": 1.3, "ikev2": 1.1}
# slug: (median download in MB/s at short range, streaming skill); the names come from the
# server lists' adapters.
PROVIDERS = {
    "nordvpn": (71.0, 0.9),
    "surfshark": (55.0, 0.85),
    "protonvpn": (47.0, 0.8),
    "mullvad": (58.0, 0.3),
    "pia": (50.0, 0.6),
    "windscribe": (42.0, 0.7),
    "ivpn": (40.0, 0.2),
    "airvpn": (45.0, 0.35),
    "privado": (37.0, 0.65),
}
DEFAULT_PROVIDER = (40.0, 0.5)  # a provider whose list joins the demo later
PLATFORM_HOME = {
    "netflix": None,
    "bbc-iplayer": "GB",
    "disney-plus": None,
    "amazon-prime-video": None,
    "hulu": "US",
    "max": "US",
}
SCALES = {
    "full": {"runs_per_day": 8, "days": 30, "agents": 20, "agent_days": 3},
    "small": {"runs_per_day": 1, "days": 3, "agents": 5, "agent_days": 1},
}


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371 * 2 * math.asin(math.sqrt(h))


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _servers(inventory: list[InventoryServer], rng: random.Random) -> list[dict[str, Any]]:
    """The listed servers a probe could measure, each with the reference it reports."""
    servers = []
    for number, listed in enumerate(inventory):
        protocols = [p for p in PROTOCOLS if p in listed.protocols]
        if not (listed.active and protocols and listed.coords and listed.city):
            continue  # left unmeasured: the pages say "not yet measured"
        resolved = f"198.{18 + number // 65536}.{number // 256 % 256}.{number % 256}"
        servers.append(
            {
                "ref": {
                    "provider": listed.provider,
                    "provider_name": listed.provider_name,
                    "hostname": listed.hostname,
                    "ip": listed.ip or resolved,
                    "country": listed.country,
                    "city": listed.city,
                },
                "coords": listed.coords,
                "protocols": protocols,
                "outage": rng.random() < 0.04,  # a few servers are down for days
            }
        )
    return servers


def _measurement(
    rng: random.Random,
    probe: dict[str, Any],
    server: dict[str, Any],
    protocol: str,
    at: datetime,
    serial: int,
    down: bool,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": "measurement",
        "id": f"{probe['id']}-{at:%Y%m%d}-{serial:06d}",
        "probe": probe["id"],
        "server": server["ref"],
        "protocol": protocol,
        "started_at": _iso(at),
    }
    if down or rng.random() < 0.03:
        error = "connection refused" if down else rng.choice(["handshake timeout", "auth failed"])
        return record | {"connect": {"success": False, "error": error}}
    km = distance_km((probe["latitude"], probe["longitude"]), server["coords"])
    overhead = PROTOCOL_OVERHEAD[protocol]
    base = (4 + km / 100) * overhead
    samples = [round(base * rng.uniform(0.95, 1.3), 1) for _ in range(5)]
    level = PROVIDERS.get(server["ref"]["provider"], DEFAULT_PROVIDER)[0] * 1_000_000 / overhead
    download = int(level / (1 + km / 8000) * rng.uniform(0.6, 1.2))
    upload = int(download * rng.uniform(0.35, 0.6))
    return record | {
        "connect": {"success": True},
        "latency": {"samples_ms": samples},
        "packet_loss": rng.choice([0, 0, 0, 0, 0.01, 0.02]),
        "download": {"bytes": download * 10, "duration_ms": 10_000, "bytes_per_s": download},
        "upload": {"bytes": upload * 10, "duration_ms": 10_000, "bytes_per_s": upload},
    }


def _streaming(
    rng: random.Random, servers: list[dict[str, Any]], day: datetime, serial: int
) -> list[dict[str, Any]]:
    by_group: dict[tuple[str, str], dict[str, Any]] = {}
    for server in servers:
        by_group.setdefault((server["ref"]["provider"], server["ref"]["country"]), server)
    records = []
    for (provider, country), server in sorted(by_group.items()):
        skill = PROVIDERS.get(provider, DEFAULT_PROVIDER)[1]
        for platform, home in PLATFORM_HOME.items():
            region = home or country
            chance = skill * (1.0 if home in (None, country) else 0.3)
            roll = rng.random()
            status = (
                "unblocked"
                if roll < chance
                else "originals_only"
                if roll < chance + 0.15
                else "error"
                if roll > 0.98
                else "blocked"
            )
            serial += 1
            records.append(
                {
                    "kind": "streaming_check",
                    "id": f"sc-{day:%Y%m%d}-{serial:06d}",
                    "server": server["ref"],
                    "platform": platform,
                    "region": region,
                    "status": status,
                    "checked_at": _iso(day + timedelta(hours=3)),
                }
            )
    return records


def generate(
    out: Path,
    reference: Mapping[str, Any],
    keys: Mapping[str, str],
    inventory: list[InventoryServer],
    scale: str = "full",
) -> list[Path]:
    """Write signed batches (one per probe and day) into `out` for the measurable servers
    of `inventory`; returns the files."""
    size = SCALES[scale]
    rng = random.Random(20261120)
    servers = _servers(inventory, rng)
    probes = reference["probe"]
    out.mkdir(parents=True, exist_ok=True)
    first_day = LAST_DAY - timedelta(days=size["days"] - 1)
    agents = servers[:: max(1, len(servers) // size["agents"])][: size["agents"]]
    written = []
    for day_index in range(size["days"]):
        day = first_day + timedelta(days=day_index)
        per_probe: dict[str, list[dict[str, Any]]] = {p["id"]: [] for p in probes}
        for index, server in enumerate(servers):
            down = server["outage"] and day_index >= size["days"] - 5
            for run in range(size["runs_per_day"]):
                probe = probes[(index + day_index + run) % len(probes)]
                protocols = server["protocols"]
                protocol = protocols[(index + day_index + run) % len(protocols)]
                at = day + timedelta(seconds=(index * 17 + run * 3001) % 86_000)
                serial = len(per_probe[probe["id"]])
                per_probe[probe["id"]].append(
                    _measurement(rng, probe, server, protocol, at, serial, down)
                )
        if day_index % 7 == size["days"] % 7 or scale == "small":
            per_probe[probes[0]["id"]] += _streaming(rng, servers, day, 0)
        if day_index >= size["days"] - size["agent_days"]:
            for number, server in enumerate(agents):
                for minute in range(0, 24 * 60, 2):
                    if number == 0 and 600 <= minute < 700:
                        continue  # one agent misses heartbeats for 100 minutes
                    per_probe[probes[0]["id"]].append(
                        {
                            "kind": "heartbeat",
                            "server": server["ref"],
                            "at": _iso(day + timedelta(minutes=minute)),
                            "cpu_pct": round(rng.uniform(5, 70), 1),
                            "ram_pct": round(rng.uniform(20, 80), 1),
                            "net_pct": round(rng.uniform(1, 60), 1),
                            "services": {"wg": True, "ov": True},
                        }
                    )
        for probe in probes:
            header = {
                "kind": "batch",
                "version": 1,
                "probe": probe["id"],
                "created_at": _iso(day + timedelta(days=1)),
            }
            lines = [header, *per_probe[probe["id"]]]
            data = "".join(
                json.dumps(line, separators=(",", ":")) + "\n" for line in lines
            ).encode()
            path = out / f"{day:%Y-%m-%d}-{probe['id']}.ndjson"
            path.write_bytes(data)
            (out / f"{path.name}.sig").write_bytes(
                sign(data, probe["id"], keys[probe["id"]].encode())
            )
            written.append(path)
    return written
