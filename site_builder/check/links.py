"""Every internal link and asset reference in the output must resolve to a file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from site_builder.check.scan import HtmlFacts, scan_html


@dataclass(frozen=True)
class LinkProblem:
    page: str  # output-relative file the link is in
    target: str  # the link as written

    def __str__(self) -> str:
        return f"{self.page}: broken link {self.target}"


def _resolves(root: Path, path: str) -> bool:
    candidate = root / path.lstrip("/")
    if path.endswith("/"):
        return (candidate / "index.html").is_file()
    return candidate.is_file() or (candidate / "index.html").is_file()


def internal_path(target: str, page_url: str, base_url: str) -> str | None:
    """The site path a link points at, or None for external links and non-HTTP schemes."""
    if target.startswith(base_url + "/") or target == base_url:
        target = target[len(base_url) :] or "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None  # external, mailto:, data:, javascript: ...
    if not parts.path:
        return None  # a fragment or query on the same page
    path = unquote(parts.path)
    if not path.startswith("/"):
        directory = page_url if page_url.endswith("/") else page_url.rsplit("/", 1)[0] + "/"
        path = directory + path
    return path


def check_links(
    root: Path, base_url: str, pages: list[HtmlFacts] | None = None
) -> list[LinkProblem]:
    """Links in the output's HTML that resolve to no file (canonical URLs are checked too)."""
    problems = []
    for page in pages if pages is not None else scan_html(root):
        for target in page.links:
            path = internal_path(target, page.url, base_url)
            if path is not None and not _resolves(root, path):
                problems.append(LinkProblem(page.relative, target))
    return problems
