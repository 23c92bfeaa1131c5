"""Site search with Pagefind: the index, built after the pages, and the search page.

Pagefind (PyPI `pagefind[bin]`, pinned; it ships its own binary, so nothing is downloaded
at build time) reads the built HTML and writes a static index that the browser queries in
small chunks. Only `<main data-pagefind-body>` of indexable pages is indexed (base.html),
so navigation, footers and noindex pages stay out. Sources (checked 2026-12-04): the
Pagefind README on npm (npmjs.com/package/pagefind: `pagefind --site`, the JS API
`import * as pagefind from "/pagefind/pagefind.js"`, `search()`, `result.data()`), and
Pagefind's own repository (github.com/Pagefind/pagefind). WebAssembly needs
`'wasm-unsafe-eval'` in the CSP's script-src (render/netlify_files.py).

The engine runs `index_files` on the staging tree once every page is written and stale
pages are removed, into a temporary folder, and writes the files it keeps through the
output writer: an index file whose bytes did not change is not written again (it stays
hard-linked to the live tree's), and Netlify's digest deploy uploads only new content.
Two runs over the same pages give byte-identical files (tested).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from site_builder.errors import SiteBuilderError
from site_builder.render.page import Breadcrumb, Page

SEARCH_URL = "/search/"
FOLDER = "pagefind"
# What the browser needs of Pagefind's output: its search API, the WebAssembly, the
# index and the fragments. Its bundled UIs (about 3 MB) are never loaded (our own
# assets/search.js renders the results), so they are not published.
_KEPT_NAMES = ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json")
_KEPT_PREFIXES = ("index/", "fragment/", "filter/", "wasm.", "pagefind.")
_KEPT_SUFFIXES = (".pf_meta", ".pagefind")
TIMEOUT_S = 600


def _kept(relative: str) -> bool:
    if relative in _KEPT_NAMES or relative.endswith(_KEPT_SUFFIXES):
        return True
    return relative.startswith(_KEPT_PREFIXES) and not relative.endswith((".css", "-ui.js"))


def index_files(tree: Path) -> dict[str, bytes]:
    """Pagefind's index of the HTML under tree, as {"pagefind/<path>": bytes}."""
    with tempfile.TemporaryDirectory(prefix="pagefind-") as temporary:
        output = Path(temporary) / FOLDER
        command = [
            sys.executable,
            "-m",
            "pagefind",
            "--site",
            str(tree),
            "--output-path",
            str(output),
            "--quiet",
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise SiteBuilderError(f"search index: pagefind ran over {TIMEOUT_S} s") from None
        if done.returncode != 0 or not (output / "pagefind.js").is_file():
            detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise SiteBuilderError(
                "search index: pagefind failed"
                f" (exit {done.returncode}): {' / '.join(detail) or 'no output'};"
                ' is the pinned "pagefind[bin]" installed (pip install -e .)?'
            )
        files = {}
        for path in sorted(output.rglob("*")):
            relative = path.relative_to(output).as_posix()
            if path.is_file() and _kept(relative):
                files[f"{FOLDER}/{relative}"] = path.read_bytes()
        return files


def search_page(site_title: str) -> Page:
    return Page(
        kind="search",
        url=SEARCH_URL,
        template="shared/search.html",
        title=f"Search {site_title}",
        description=f"Search every page of {site_title}: runs in your browser.",
        context={},
        indexable=False,  # a results page has no content of its own
        breadcrumbs=(Breadcrumb("Home", "/"), Breadcrumb("Search", SEARCH_URL)),
    )
