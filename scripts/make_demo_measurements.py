"""Generate the demo probe batches (signed NDJSON) deterministically.

Run from the project root: ``python scripts/make_demo_measurements.py [OUT_DIR]``.
Latency grows with the great-circle distance from probe to server; each provider has its
own speed level; a few connections fail. The keys are the public demo keys in
data/demo/probe-keys.json: never use them for real probes.
"""

from __future__ import annotations

import json
import math
import random
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from site_builder.pull.measurements.batch import sign

ROOT = Path(__file__).resolve().parent.parent
DAY = datetime(2026, 11, 20, tzinfo=UTC)
PROVIDERS = {  # slug: (name, median download MB/s)
    "mullvad": ("Mullvad", 58.0),
    "nordvpn": ("NordVPN", 71.0),
    "expressvpn": ("ExpressVPN", 52.0),
    "protonvpn": ("Proton VPN", 47.0),
    "surfshark": ("Surfshark", 55.0),
    "ivpn": ("IVPN", 40.0),
}
PROBES = ("fra", "nyc", "sin")
PROTOCOLS = ("wireguard", "openvpn-udp")
RUNS_PER_DAY = 4


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371 * 2 * math.asin(math.sqrt(h))


def servers(cities: list[dict], rng: random.Random) -> list[dict]:
    result = []
    for provider, (name, _) in PROVIDERS.items():
        for index, city in enumerate(cities):
            if rng.random() < 0.25:
                continue  # not every provider is in every city
            code = city["country"].lower()
            city_slug = city["name"].lower().replace(" ", "")
            result.append(
                {
                    "provider": provider,
                    "provider_name": name,
                    "hostname": f"{code}-{city_slug}-{index:02d}.{provider}.example",
                    "ip": f"198.51.{len(result) // 250}.{len(result) % 250 + 1}",
                    "country": city["country"],
                    "city": city["name"],
                    "_coords": (city["latitude"], city["longitude"]),
                }
            )
    return result


def measurement(rng, probe, probe_coords, server, protocol, started_at, serial):
    ref = {k: v for k, v in server.items() if not k.startswith("_")}
    record = {
        "kind": "measurement",
        "id": f"{probe}-{started_at:%Y%m%d%H%M}-{serial:05d}",
        "probe": probe,
        "server": ref,
        "protocol": protocol,
        "started_at": started_at.isoformat().replace("+00:00", "Z"),
    }
    if rng.random() < 0.03:
        record["connect"] = {
            "success": False,
            "error": rng.choice(["handshake timeout", "auth failed"]),
        }
        return record
    base = 4 + distance_km(probe_coords, server["_coords"]) / 100
    overhead = 1.0 if protocol == "wireguard" else 1.15
    samples = [round(base * overhead * rng.uniform(0.95, 1.25), 1) for _ in range(5)]
    level = PROVIDERS[server["provider"]][1] * 1_000_000 / overhead
    distance_penalty = 1 / (1 + distance_km(probe_coords, server["_coords"]) / 8000)
    down = int(level * distance_penalty * rng.uniform(0.6, 1.2))
    up = int(down * rng.uniform(0.35, 0.6))
    record |= {
        "connect": {"success": True},
        "latency": {"samples_ms": samples},
        "packet_loss": round(rng.choice([0, 0, 0, 0.01, 0.02]), 3),
        "download": {"bytes": down * 10, "duration_ms": 10000, "bytes_per_s": down},
        "upload": {"bytes": up * 10, "duration_ms": 10000, "bytes_per_s": up},
    }
    return record


def main(out: Path) -> None:
    reference = tomllib.loads((ROOT / "data/vpn/reference.toml").read_text())
    keys = json.loads((ROOT / "data/demo/probe-keys.json").read_text())
    probes = {p["id"]: p for p in reference["probe"]}
    rng = random.Random(20261120)
    server_list = servers(reference["city"], rng)
    out.mkdir(parents=True, exist_ok=True)
    for probe in PROBES:
        coords = (probes[probe]["latitude"], probes[probe]["longitude"])
        lines = [
            {
                "kind": "batch",
                "version": 1,
                "probe": probe,
                "created_at": (DAY + timedelta(days=1)).isoformat().replace("+00:00", "Z"),
            }
        ]
        serial = 0
        for run in range(RUNS_PER_DAY):
            for server in server_list:
                for protocol in PROTOCOLS:
                    serial += 1
                    started = DAY + timedelta(hours=6 * run, seconds=serial * 7)
                    lines.append(measurement(rng, probe, coords, server, protocol, started, serial))
        data = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()
        name = f"{DAY:%Y-%m-%d}-{probe}.ndjson"
        (out / name).write_bytes(data)
        (out / f"{name}.sig").write_bytes(sign(data, probe, keys[probe].encode()))
        print(f"wrote {out / name} ({len(lines) - 1} records)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "data/demo/measurements")
