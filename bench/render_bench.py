"""Render cost per page kind, the templates alone: no data loading, keys or writes.

    python bench/render_bench.py --runs 5

Builds both demo sites once in one process (on a copy of the project in /dev/shm, from the
demo store ``data/site.db``: run ``build-site --demo`` first), keeping up to ``--per-kind``
pages of each kind as they go to the renderer. Then it renders that sample ``--runs`` times
with the project's environment (``make_environment``) and, interleaved as the baseline in the
same run, with a stock ``jinja2.Environment`` of the same settings, and prints the median
microseconds per page of each kind and overall, weighted by the kinds' real page counts.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import jinja2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from site_builder.config import load_project  # noqa: E402
from site_builder.db import make_engine  # noqa: E402
from site_builder.render import build_site, parallel  # noqa: E402
from site_builder.render.page import Page  # noqa: E402
from site_builder.sites import available_page_kinds  # noqa: E402

SITES = ("cloudgpus", "bestvpnserver")


def sample_pages(
    project_dir: Path, database: Path, per_kind: int
) -> tuple[dict[str, list[bytes]], Counter[str], dict[str, Any]]:
    """Pickled pages by site:kind, every kind's page count, and each site's environment."""
    shutil.copy(ROOT / "sites.toml", project_dir / "sites.toml")
    for folder in ("templates", "content"):
        shutil.copytree(ROOT / folder, project_dir / folder)
    (project_dir / "data").symlink_to(ROOT / "data")
    samples: dict[str, list[bytes]] = defaultdict(list)
    counts: Counter[str] = Counter()
    environments: dict[str, Any] = {}
    original = parallel.RenderTarget.render
    current = {"site": ""}

    def recording(target: parallel.RenderTarget, page: Page) -> bool:
        environments[current["site"]] = target.environment
        key = f"{current['site']}:{page.kind}"
        counts[key] += 1
        if len(samples[key]) < per_kind:
            samples[key].append(pickle.dumps(page))
        return original(target, page)

    parallel.RenderTarget.render = recording  # type: ignore[method-assign]
    try:
        project = load_project(project_dir / "sites.toml", available_page_kinds())
        engine = make_engine(f"sqlite:///{database}")
        for site in SITES:
            current["site"] = site
            build_site(engine, project, site, jobs=1)
    finally:
        parallel.RenderTarget.render = original  # type: ignore[method-assign]
    return samples, counts, environments


def stock_copy(environment: jinja2.Environment) -> jinja2.Environment:
    """The same loader, settings, filters and globals on a stock jinja2.Environment."""
    stock = jinja2.Environment(
        loader=environment.loader,
        autoescape=environment.autoescape,
        undefined=environment.undefined,
        trim_blocks=environment.trim_blocks,
        lstrip_blocks=environment.lstrip_blocks,
        auto_reload=False,
    )
    stock.filters.update(environment.filters)
    stock.globals.update(environment.globals)
    return stock


def render_all(environment: jinja2.Environment, base_url: str, pages: list[Page]) -> float:
    started = time.perf_counter()
    for page in pages:
        environment.get_template(page.template).render(
            page=page, canonical=base_url + page.url, **page.context
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-kind", type=int, default=200)
    parser.add_argument("--source", type=Path, default=ROOT / "data/site.db")
    args = parser.parse_args()
    if not args.source.is_file():
        raise SystemExit(f"{args.source} not found: run `build-site --demo` first")
    project_dir = Path(tempfile.mkdtemp(prefix="render-bench-", dir="/dev/shm"))
    try:
        measure(project_dir, args)
    finally:
        shutil.rmtree(project_dir, ignore_errors=True)


def measure(project_dir: Path, args: argparse.Namespace) -> None:
    samples, counts, environments = sample_pages(project_dir, args.source, args.per_kind)
    project = load_project(ROOT / "sites.toml", available_page_kinds())
    variants = {
        site: {"project": environments[site], "stock": stock_copy(environments[site])}
        for site in environments
    }
    pages_of = {key: [pickle.loads(p) for p in pickled] for key, pickled in samples.items()}
    gc.collect()
    gc.freeze()  # as the build does before rendering (see site_builder/gcpause.py)
    timings: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in range(args.runs):
        for key, pages in pages_of.items():
            site = key.split(":")[0]
            base_url = project.site(site).base_url
            order = list(variants[site].items())
            for name, environment in order if run % 2 else reversed(order):
                seconds = render_all(environment, base_url, pages)
                timings[key][name].append(seconds / len(pages) * 1e6)
    print(f"median of {args.runs} runs, microseconds per page (sample of <= {args.per_kind})")
    print(f"{'kind':38} {'pages':>6} {'project':>9} {'stock':>9} {'ratio':>6}")
    totals = {"project": 0.0, "stock": 0.0}
    for key in sorted(timings, key=lambda k: -counts[k] * statistics.median(timings[k]["project"])):
        medians = {name: statistics.median(values) for name, values in timings[key].items()}
        for name in totals:
            totals[name] += medians[name] * counts[key]
        print(
            f"{key:38} {counts[key]:6,} {medians['project']:9.0f} {medians['stock']:9.0f}"
            f" {medians['project'] / medians['stock']:6.2f}"
        )
    pages = sum(counts.values())
    print(
        f"{'all pages, weighted':38} {pages:6,} {totals['project'] / pages:9.0f}"
        f" {totals['stock'] / pages:9.0f} {totals['project'] / totals['stock']:6.2f}"
    )
    print(
        f"render CPU for the whole demo: {totals['project'] / 1e6:.2f} s"
        f" (stock Jinja: {totals['stock'] / 1e6:.2f} s)"
    )


if __name__ == "__main__":
    main()
