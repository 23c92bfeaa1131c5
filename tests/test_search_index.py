"""The Pagefind index: built from a tree's indexable pages, byte-identical run to run."""

from __future__ import annotations

from pathlib import Path

from site_builder.render.search import index_files

PAGE = """<!doctype html><html lang="en"><head><title>{title}</title></head><body>
<nav>Menu text that is never indexed</nav><main {body}><h1>{title}</h1><p>{text}</p></main>
</body></html>"""


def _tree(root: Path) -> Path:
    pages = {
        "gpus/h100-sxm/index.html": (
            "NVIDIA H100 SXM cloud prices",
            "From $1.90 per GPU-hour.",
            True,
        ),
        "gpus/a10/index.html": ("NVIDIA A10 cloud prices", "From $0.50 per GPU-hour.", True),
        "search/index.html": ("Search", "A page marked noindex.", False),
    }
    for path, (title, text, indexed) in pages.items():
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        body = "data-pagefind-body" if indexed else ""
        file.write_text(PAGE.format(title=title, text=text, body=body))
    return root


def test_index_is_deterministic_and_keeps_only_what_the_browser_loads(tmp_path: Path) -> None:
    first = index_files(_tree(tmp_path / "a"))
    second = index_files(_tree(tmp_path / "b"))
    assert first == second  # same pages, same bytes: a deploy uploads nothing new
    assert "pagefind/pagefind.js" in first and "pagefind/pagefind-entry.json" in first
    assert any(p.startswith("pagefind/fragment/") for p in first)
    assert not any(p.endswith((".css", "-ui.js")) for p in first)  # the bundled UIs stay out
    entry = first["pagefind/pagefind-entry.json"].decode()
    assert '"page_count":2' in entry.replace(" ", "")  # the noindex page is not indexed
