"""Deploy benchmark: manifest hashing for N files, and what an unchanged / 1 %-changed
build uploads. Run by hand from the project root:

    .venv/bin/python bench/deploy_bench.py [--files 100000] [--runs 3] [--dir /dev/shm]

Prints medians and ratios against a single-threaded sha1 baseline measured in the same run.
Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from site_builder.config import Environment, load_project
from site_builder.db import make_engine, upgrade
from site_builder.deploy import DeployOptions, deploy_site
from site_builder.deploy.client import RetryPolicy
from site_builder.deploy.manifest import build_manifest
from site_builder.sites import available_page_kinds
from tests.fake_netlify import TOKEN, fake_netlify

PAGE = (
    "<!doctype html><html><head><title>Page {n}</title></head>"
    "<body><main><h1>GPU {n}</h1>{rows}</main></body></html>"
)


def make_tree(root: Path, files: int) -> None:
    rows = "".join(f"<tr><td>provider {i}</td><td>${i}.99</td></tr>" for i in range(60))
    for n in range(files):
        directory = root / f"p{n // 1000:03d}" / f"page-{n:06d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "index.html").write_text(PAGE.format(n=n, rows=rows))
    (root / "index.html").write_text(PAGE.format(n="home", rows=""))


def baseline_sha1(root: Path) -> float:
    started = time.perf_counter()
    for directory, _, names in os.walk(root):
        for name in names:
            hashlib.sha1(Path(directory, name).read_bytes()).hexdigest()
    return time.perf_counter() - started


def timed_manifest(root: Path) -> float:
    started = time.perf_counter()
    build_manifest(root)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", default=None, help="where to create the tree (e.g. /dev/shm)")
    parser.add_argument("--skip-upload", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(dir=args.dir, prefix="deploy-bench-"))
    try:
        output = workdir / "output"
        started = time.perf_counter()
        make_tree(output, args.files)
        print(f"tree: {args.files:,} files in {time.perf_counter() - started:.1f} s at {workdir}")
        baselines, manifests = [], []
        for _ in range(args.runs):  # interleaved, so both see the same cache state
            baselines.append(baseline_sha1(output))
            manifests.append(timed_manifest(output))
        base, ours = statistics.median(baselines), statistics.median(manifests)
        rate = args.files / base
        print(f"read+sha1 loop baseline: median {base:.2f} s ({rate:,.0f} files/s)")
        print(
            f"build_manifest:          median {ours:.2f} s ({args.files / ours:,.0f} files/s),"
            f" {ours / base:.2f}x the baseline's time"
        )
        if args.skip_upload:
            return
        (workdir / "sites.toml").write_text(
            '[sites.cloudgpus]\ntitle = "Bench"\nbase_url = "https://bench.example"\n'
            'output_dir = "output"\nnetlify_site_id_env = "NETLIFY_SITE_ID_CLOUDGPUS"\n'
            'page_kinds = ["home"]\n'
        )
        project = load_project(workdir / "sites.toml", available_page_kinds())
        engine = make_engine(f"sqlite:///{workdir / 'store.db'}")
        upgrade(engine)
        with fake_netlify() as fake:
            fake.add_site("bench", "bench")
            env = Environment.from_mapping(
                {
                    "NETLIFY_AUTH_TOKEN": TOKEN,
                    "NETLIFY_API_URL": fake.base_url,
                    "NETLIFY_SITE_ID_CLOUDGPUS": "bench",
                }
            )
            options = DeployOptions(poll_interval_s=0.05, policy=RetryPolicy())

            def run(label: str) -> None:
                started = time.perf_counter()
                result = deploy_site(engine, project, env, "cloudgpus", options)
                seconds = time.perf_counter() - started
                print(
                    f"{label}: {result.files:,} files, uploaded {result.uploaded_files:,} files"
                    f" / {result.uploaded_bytes:,} bytes in {seconds:.1f} s"
                )

            run("first deploy")
            run("unchanged rebuild")
            changed = sorted(output.rglob("index.html"))[::100]  # 1 % of the pages
            for page in changed:
                page.write_text(page.read_text().replace("</main>", "<p>new price</p></main>"))
            run(f"1 % changed ({len(changed):,} pages)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
