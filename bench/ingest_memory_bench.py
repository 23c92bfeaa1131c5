"""Peak memory of ingesting ONE big measurement batch, on SQLite and PostgreSQL. By hand,
from the project root:

    .venv/bin/python bench/ingest_memory_bench.py [--rows 200000 2000000]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--only sqlite]
        [--whole]

Each case runs in a fresh process (the pull, rollups and status included) and reports that
process's peak resident set (ru_maxrss) and its worker processes' (none here: one file is
prepared in the main process). `--whole` also measures the batch taken whole, not streamed
(about 6 KB a record: do not use it at 2,000,000 rows). The PostgreSQL database's public
schema is dropped and made again: point --postgres at a database of its own.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))
from ingest_bench import KEY, header, measurement  # noqa: E402  (the bench folder)


def write_batch(path: Path, rows: int, servers: int = 5000) -> None:
    """One signed batch of `rows` measurements, written line by line (the bench's own memory
    must not depend on the batch either)."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=300)
    mac = hmac.new(KEY["fra"], digestmod=hashlib.sha256)
    with path.open("wb") as out:

        def write(document: dict[str, object]) -> None:
            line = (json.dumps(document) + "\n").encode()
            mac.update(line)
            out.write(line)

        write(header(start + timedelta(days=299)))
        for n in range(rows):
            write(measurement(n, servers, start + timedelta(seconds=n * 10), speed_spread=False))


def child(url: str, folder: Path, whole: bool) -> None:
    """One pull in this process; prints a JSON line with its peak memory."""
    from sqlalchemy import text

    from site_builder.db import make_engine, upgrade
    from site_builder.pull.measurements import pull_measurements

    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    started = time.perf_counter()
    report = pull_measurements(
        engine,
        folder,
        keys=KEY,
        reference_file=ROOT / "data/vpn/reference.toml",
        stream_above_mb=None if whole else 16,
    )
    seconds = time.perf_counter() - started
    assert report.count("ingested") == 1, [r.message for r in report.results]
    engine.dispose()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"peak_mb": own / 1024, "workers_peak_mb": workers / 1024, "s": seconds}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000, 2_000_000])
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--whole", action="store_true", help="also without streaming")
    parser.add_argument("--child", nargs=3, metavar=("URL", "FOLDER", "WHOLE"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2] == "whole")
        return
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="ingest-memory-") as tmp:
            folder = Path(tmp) / "batches"
            folder.mkdir()
            write_batch(folder / "big.ndjson", rows)
            size = (folder / "big.ndjson").stat().st_size
            print(f"{rows:,} measurements in one batch, {size / 1e6:,.0f} MB", flush=True)
            for name in ("sqlite", "postgresql"):
                if args.only and name != args.only:
                    continue
                for mode in ("streamed", "whole") if args.whole else ("streamed",):
                    url = args.postgres if name == "postgresql" else f"sqlite:///{tmp}/{mode}.db"
                    out = subprocess.run(
                        [sys.executable, __file__, "--child", url, str(folder), mode],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                    figures = json.loads(out.strip().splitlines()[-1])
                    print(
                        f"  {name:10} {mode:8} peak RSS {figures['peak_mb']:7,.0f} MB"
                        f" (workers {figures['workers_peak_mb']:,.0f} MB),"
                        f" {figures['s']:,.0f} s",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
