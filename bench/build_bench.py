"""Build speed and memory: full build, unchanged rebuild and 1 %-change rebuild, on disk and
on tmpfs, for the demo and for a synthetic variant with ~100,000 pages.

    python bench/build_bench.py --runs 3                           # the demo store
    python bench/build_bench.py --runs 3 --synthetic-copies 19     # ~100,000 pages

It works on a copy of the demo SQLite store (``data/site.db``; run ``build-site --demo``
first) and never touches the original. ``--synthetic-copies N`` adds N clones of every VPN
server (new hostnames, the same rollups) to the copy, so bestvpnserver gets about N+1 times
the server pages.

Each build runs in its own process, so peak memory (max RSS) is that build's alone. A build
stages its output; its time includes the promotion a passing check would make (seal and
swap), so figures stay comparable with code from before staging, which this script also runs
(point PYTHONPATH at such a checkout). Per
run: a full build from empty output (every core), the same with one process (the baseline
for the parallel speed-up), an unchanged rebuild, and a rebuild after 1 % of the servers'
latest figures and 1 % of the GPU offers changed (the full build is their baseline).
"""

from __future__ import annotations

import argparse
import compileall
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BUILD = """
import json, resource, sys, time
from pathlib import Path
try:
    from site_builder.render import build_site
except ImportError:  # code from before the render stage's rename (same-run comparisons)
    from site_builder.build import build_site
try:
    from site_builder import publish  # a build stages; its promotion is part of its cost
except ImportError:
    publish = None
from site_builder.config import load_project
from site_builder.db import make_engine
from site_builder.sites import available_page_kinds
project = load_project(Path(sys.argv[1]), available_page_kinds())
engine = make_engine(sys.argv[2])
totals = {"pages": 0, "rendered": 0, "written": 0, "seconds": 0.0}
for site in ("cloudgpus", "bestvpnserver"):
    report = build_site(engine, project, site, jobs=int(sys.argv[3]))
    started = time.monotonic()
    if publish is not None and getattr(report, "staged", False):
        publish.promote(publish.trees(project, site))  # as a passing check would
    totals["pages"] += report.pages
    totals["rendered"] += report.rendered
    totals["written"] += report.written
    totals["seconds"] += report.seconds + time.monotonic() - started
totals["main_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
totals["worker_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(totals))
"""


def build(project: Path, database: str, jobs: int) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", BUILD, str(project / "sites.toml"), database, str(jobs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def make_project(where: Path) -> Path:
    project = where / "project"
    if project.exists():
        shutil.rmtree(project)
    project.mkdir(parents=True)
    shutil.copy(ROOT / "sites.toml", project / "sites.toml")
    for folder in ("templates", "content"):
        shutil.copytree(ROOT / folder, project / folder)
    (project / "data").symlink_to(ROOT / "data")
    return project


def clone_servers(database: Path, copies: int) -> None:
    """Add `copies` clones of every server, with the same rollups, to the SQLite copy."""
    connection = sqlite3.connect(database)
    step = connection.execute("SELECT max(id) FROM vpn_servers").fetchone()[0] + 1
    columns = [row[1] for row in connection.execute("PRAGMA table_info(vpn_servers)")]
    for copy in range(1, copies + 1):
        offset = copy * step
        values = ", ".join(
            f"id + {offset}" if c == "id" else f"'c{copy}-' || hostname" if c == "hostname" else c
            for c in columns
        )
        connection.execute(
            f"INSERT INTO vpn_servers ({', '.join(columns)})"
            f" SELECT {values} FROM vpn_servers WHERE id < {step}"
        )
        for table in (
            "vpn_measurement_daily",
            "vpn_server_uptime_daily",
            "vpn_server_probe_latest",
        ):
            table_columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            selected = ", ".join(
                f"server_id + {offset}" if c == "server_id" else c for c in table_columns
            )
            connection.execute(
                f"INSERT INTO {table} ({', '.join(table_columns)})"
                f" SELECT {selected} FROM {table} WHERE server_id < {step}"
            )
    connection.commit()
    connection.close()


def change_one_percent(database: Path, generation: int) -> None:
    connection = sqlite3.connect(database)
    connection.execute(
        "UPDATE vpn_measurement_daily SET download_median_bps = download_median_bps + ?"
        " WHERE server_id % 100 = 0 AND day = (SELECT max(day) FROM vpn_measurement_daily)",
        (generation,),
    )
    connection.execute(
        "UPDATE gpu_offers SET price_per_gpu_usd = price_per_gpu_usd + ? WHERE id % 100 = 0",
        (generation,),
    )
    connection.commit()
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--source", type=Path, default=ROOT / "data/site.db")
    parser.add_argument("--synthetic-copies", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--where", choices=["disk", "tmpfs", "both"], default="both")
    parser.add_argument(
        "--no-serial", action="store_true", help="skip the one-process baseline build"
    )
    args = parser.parse_args()
    if not args.source.is_file():
        raise SystemExit(f"{args.source} not found: run `build-site --demo` first")
    # Bytecode cached as an installed package has it: with PYTHONDONTWRITEBYTECODE set (as
    # on some CI machines) every build process would otherwise compile the project again.
    compileall.compile_dir(ROOT / "site_builder", quiet=1)
    work = Path(tempfile.mkdtemp(prefix="build-bench-"))
    database = work / "bench.db"
    shutil.copy(args.source, database)
    if args.synthetic_copies:
        clone_servers(database, args.synthetic_copies)
    url = f"sqlite:///{database}"
    results: dict[str, dict[str, list[float]]] = {}
    try:
        locations = [("disk", work), ("tmpfs", Path("/dev/shm") / work.name)]
        for label, where in locations:
            if args.where not in (label, "both"):
                continue
            figures = results.setdefault(label, {})
            for run in range(args.runs):
                project = make_project(where)
                full = build(project, url, args.jobs)
                serial = {"seconds": float("nan"), "main_rss_mb": float("nan")}
                if not args.no_serial:
                    shutil.rmtree(project / "output")
                    shutil.rmtree(project / ".build-state")
                    serial = build(project, url, 1)
                unchanged = build(project, url, args.jobs)
                change_one_percent(database, run + 1)
                changed = build(project, url, args.jobs)
                for name, value in (
                    ("pages", full["pages"]),
                    ("full_s", full["seconds"]),
                    ("pages_per_s", full["pages"] / full["seconds"]),
                    ("serial_s", serial["seconds"]),
                    ("serial_rss_mb", serial["main_rss_mb"]),
                    ("main_rss_mb", full["main_rss_mb"]),
                    ("worker_rss_mb", full["worker_rss_mb"]),
                    ("unchanged_s", unchanged["seconds"]),
                    ("unchanged_rendered", unchanged["rendered"]),
                    ("changed_s", changed["seconds"]),
                    ("changed_rendered", changed["rendered"]),
                    ("changed_written", changed["written"]),
                ):
                    figures.setdefault(name, []).append(value)
                print(label, run, json.dumps({k: round(v[-1], 2) for k, v in figures.items()}))
            shutil.rmtree(where / "project", ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(Path("/dev/shm") / work.name, ignore_errors=True)
    for label, figures in results.items():
        median = {k: statistics.median(v) for k, v in figures.items()}
        print(f"\n{label} (median of {args.runs}): {median['pages']:,.0f} pages")
        print(
            f"  full build, {args.jobs} processes: {median['full_s']:.2f} s"
            f" ({median['pages_per_s']:,.0f} pages/s); peak RSS main {median['main_rss_mb']:.0f}"
            f" MB, largest worker {median['worker_rss_mb']:.0f} MB"
        )
        print(
            f"  one process (baseline): {median['serial_s']:.2f} s, peak RSS"
            f" {median['serial_rss_mb']:.0f} MB; parallel speed-up"
            f" {median['serial_s'] / median['full_s']:.2f}x"
        )
        print(
            f"  unchanged rebuild: {median['unchanged_s']:.2f} s"
            f" ({median['unchanged_s'] / median['full_s']:.1%} of the full build),"
            f" {median['unchanged_rendered']:.0f} pages rendered"
        )
        print(
            f"  1 % changed: {median['changed_s']:.2f} s"
            f" ({median['changed_s'] / median['full_s']:.1%}),"
            f" {median['changed_rendered']:,.0f} pages rendered,"
            f" {median['changed_written']:,.0f} files written"
        )


if __name__ == "__main__":
    main()
