"""Measurement ingest benchmark: N measurements in signed batches, end to end (read, verify,
validate, insert, rollups) into SQLite and PostgreSQL. Run by hand from the project root:

    .venv/bin/python bench/ingest_bench.py [--rows 1000000] [--batch 50000] [--runs 1]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--only postgresql]

The PostgreSQL database's public schema is dropped and made again: point --postgres at a
database of its own. "stored" is the time until the last batch is in; "with rollups" adds
the rollups and server status. The baseline is read + verify + validate in one process
(no database, no worker processes), measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from site_builder.db import make_engine, upgrade
from site_builder.gcpause import no_cyclic_gc
from site_builder.pull.measurements import pull_measurements
from site_builder.pull.measurements.batch import parse, sign, verify

KEY = {"fra": b"bench-key-0123456789"}
# A month back from today (midnight UTC): inside the pull's age bound whenever the bench runs.
T0 = datetime.combine(date.today() - timedelta(days=30), datetime.min.time(), UTC)


def measurement(n: int, servers: int, at: datetime, speed_spread: bool = True) -> dict[str, Any]:
    """The n-th synthetic measurement: `servers` servers in turn, every figure plausible.
    With `speed_spread`, each server's speeds differ a little (rollups see distinct values)."""
    s = n % servers
    spread = s if speed_spread else 0
    return {
        "kind": "measurement",
        "id": f"fra-{n:09d}",
        "probe": "fra",
        "server": {
            "provider": f"provider-{s % 20}",
            "hostname": f"s{s}.example",
            "ip": f"10.{s // 65536}.{s // 256 % 256}.{s % 256}",
            "country": "DE",
            "city": "Frankfurt",
        },
        "protocol": ("wireguard", "openvpn-udp")[n % 2],
        "started_at": at.isoformat().replace("+00:00", "Z"),
        "connect": {"success": True},
        "latency": {"samples_ms": [10.0 + s % 7, 11.0, 12.5, 10.2, 9.9]},
        "packet_loss": 0,
        "download": {
            "bytes": 500_000_000,
            "duration_ms": 10_000,
            "bytes_per_s": 50_000_000 + spread,
        },
        "upload": {
            "bytes": 200_000_000,
            "duration_ms": 10_000,
            "bytes_per_s": 20_000_000 + spread,
        },
    }


def header(created: datetime) -> dict[str, Any]:
    return {
        "kind": "batch",
        "version": 1,
        "probe": "fra",
        "created_at": created.isoformat().replace("+00:00", "Z"),
    }


def write_batches(folder: Path, rows: int, batch: int, servers: int = 5000) -> None:
    created = T0 + timedelta(days=20)  # after every record, inside the pull's age bound
    for first in range(0, rows, batch):
        lines = [json.dumps(header(created))]
        for n in range(first, min(rows, first + batch)):
            lines.append(json.dumps(measurement(n, servers, T0 + timedelta(seconds=n * 2))))
        data = ("\n".join(lines) + "\n").encode()
        name = f"batch-{first // batch:05d}.ndjson"
        (folder / name).write_bytes(data)
        (folder / f"{name}.sig").write_bytes(sign(data, "fra", KEY["fra"]))


def baseline(folder: Path) -> float:
    started = time.perf_counter()
    for path in sorted(folder.glob("*.ndjson")):
        data = path.read_bytes()
        probe = verify(path.name, data, (folder / f"{path.name}.sig").read_bytes(), KEY)
        with no_cyclic_gc():
            parse(path.name, data, signed_probe=probe, known_probes={"fra"}, now=datetime.now(UTC))
    return time.perf_counter() - started


def ingest(url: str, folder: Path) -> tuple[float, float]:
    """(seconds to the last batch stored, seconds in all: rollups and status included)."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    stored: list[float] = []
    started = time.perf_counter()
    report = pull_measurements(
        engine,
        folder,
        keys=KEY,
        reference_file=Path("data/vpn/reference.toml"),
        on_result=lambda _: stored.append(time.perf_counter()),
    )
    seconds = time.perf_counter() - started
    assert report.count("ingested") == len(report.results), [r.message for r in report.results][:3]
    engine.dispose()
    return stored[-1] - started, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database only")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        folder = Path(tmp) / "batches"
        folder.mkdir()
        write_batches(folder, args.rows, args.batch)
        size = sum(p.stat().st_size for p in folder.glob("*.ndjson"))
        print(
            f"{args.rows:,} measurements in {args.rows // args.batch} batches, {size / 1e6:.0f} MB"
        )
        results: dict[str, list[float]] = {
            "baseline (verify+validate)": [],
            "sqlite: stored": [],
            "sqlite: with rollups": [],
            "postgresql: stored": [],
            "postgresql: with rollups": [],
        }
        for run in range(args.runs):
            results["baseline (verify+validate)"].append(baseline(folder))
            for name, url in (
                ("sqlite", f"sqlite:///{Path(tmp) / f'bench-{run}.db'}"),
                ("postgresql", args.postgres),
            ):
                if args.only and name != args.only:
                    continue
                stored, total = ingest(url, folder)
                results[f"{name}: stored"].append(stored)
                results[f"{name}: with rollups"].append(total)
        base = statistics.median(results["baseline (verify+validate)"])
        for name, times in results.items():
            if not times:
                continue
            median = statistics.median(times)
            each = ", ".join(f"{t:.1f}" for t in times)
            print(
                f"{name:28s} median {median:6.1f} s ({each})  {args.rows / median:8,.0f} rows/s"
                f"  ({median / base:.2f}x the baseline's time)"
            )


if __name__ == "__main__":
    main()
