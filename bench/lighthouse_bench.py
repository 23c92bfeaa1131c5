"""Lighthouse scores of sample pages of both sites, mobile and desktop.

    python bench/lighthouse_bench.py [--pages cloudgpus:/gpus/h100-sxm/ ...] [--runs 3] [--markdown]

Serves the live output trees (``output/<site>/``: run ``build-site --demo`` first) on
loopback with the Netlify stand-in (``netlify/standin/serve.mjs``: the files, plus the real
tools function at ``/api/tools/*``, so a tool page calls what it calls on the CDN and logs no
404), and runs the pinned Lighthouse (``npm ci``: ``lighthouse`` is a devDependency, 12.2.3
because 13 wants Node 22) with Debian's Chromium, once per page and form factor (the
default mobile emulation, and ``--preset=desktop``), ``--runs`` times each. It prints
performance, accessibility, best practices and SEO per run, and with ``--markdown`` a table
of each score's median (and its range when runs differ) for docs/benchmarks.md.
The stand-in sends no ``_headers`` (CSP and caching are the CDN's), so best practices
is scored without them. One run at a time: Lighthouse's timings suffer on a busy machine,
so run it alone.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
DEFAULT_PAGES = (
    "cloudgpus:/",
    "cloudgpus:/gpus/h100-sxm/",
    "cloudgpus:/calculator/",
    "cloudgpus:/best-gpu-for-llm-training/",
    "cloudgpus:/providers/lambda/",
    "cloudgpus:/price-changes/",
    "bestvpnserver:/",
    "bestvpnserver:/providers/",
    "bestvpnserver:/providers/nordvpn/",
    "bestvpnserver:/streaming/netflix/",
    "bestvpnserver:/tools/speed-test/",
    "bestvpnserver:/tools/my-ip/",
)


STANDIN = ROOT / "netlify" / "standin" / "serve.mjs"


def _serve(folder: Path, node: str) -> tuple[subprocess.Popen[str], str]:
    """The stand-in serving `folder` on a free loopback port, and its address."""
    process = subprocess.Popen(
        [node, str(STANDIN), str(folder), "0"], stdout=subprocess.PIPE, text=True
    )
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("listening on "):
        process.kill()
        sys.exit(f"the Netlify stand-in did not start for {folder}: {line!r}")
    return process, line.removeprefix("listening on ").strip().rstrip("/")


def run(url: str, desktop: bool, chromium: str) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        command = [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            f"--only-categories={','.join(CATEGORIES)}",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
            *(["--preset=desktop"] if desktop else []),
        ]
        env = {"CHROME_PATH": chromium, "PATH": "/usr/bin:/bin"}
        subprocess.run(command, check=True, timeout=300, env=env, capture_output=True)
        categories = json.loads(report.read_text())["categories"]
        return {name: round(categories[name]["score"] * 100) for name in CATEGORIES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="+", default=list(DEFAULT_PAGES))
    parser.add_argument("--runs", type=int, default=1, help="runs per page and form factor")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    node = shutil.which("node")
    if not chromium or not node or not LIGHTHOUSE.exists():
        sys.exit("needs Debian's chromium, node and `npm ci` (lighthouse in node_modules)")
    servers = {
        name: _serve(ROOT / "output" / name, node)
        for name in sorted({p.split(":", 1)[0] for p in args.pages})
    }
    rows = []
    try:
        for page in args.pages:
            site, path = page.split(":", 1)
            for desktop in (False, True):
                form = "desktop" if desktop else "mobile"
                runs = []
                for _ in range(args.runs):
                    scores = run(servers[site][1] + path, desktop, chromium)
                    print(site, path, form, " ".join(f"{k}={v}" for k, v in scores.items()))
                    runs.append(scores)
                rows.append((site, path, form, runs))
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=10)
    if args.markdown:
        print("\n| Site | Page | Form factor | " + " | ".join(CATEGORIES) + " |")
        print("| --- | --- | --- |" + " ---: |" * len(CATEGORIES))
        for site, path, form, runs in rows:
            values = " | ".join(_summary([r[c] for r in runs]) for c in CATEGORIES)
            print(f"| {site} | `{path}` | {form} | {values} |")


def _summary(scores: list[int]) -> str:
    """The median, with the range when the runs differ ("97 (92-98)")."""
    median = round(statistics.median(scores))
    low, high = min(scores), max(scores)
    return str(median) if low == high else f"{median} ({low}-{high})"


if __name__ == "__main__":
    main()
