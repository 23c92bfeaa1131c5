"""The check stage: refuses to publish output that is broken, leaky or suspiciously small."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from site_builder.check.guard import DEFAULT_MAX_PAGE_LOSS, check_page_loss, output_pages
from site_builder.check.leaks import check_drafts, check_leaks, local_paths, secret_values
from site_builder.check.links import LinkProblem, check_links
from site_builder.check.scan import scan_html
from site_builder.check.sitemaps import check_sitemaps
from site_builder.check.titles import check_unique_titles
from site_builder.render.netlify_syntax import check_headers_file, check_redirects_file


@dataclass
class CheckReport:
    site: str
    problems: dict[str, list[str]] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        return [name for name, found in self.problems.items() if found]


def run_checks(
    site: str,
    root: Path,
    base_url: str,
    *,
    env: Mapping[str, str],
    project_root: Path,
    content_dir: Path,
    previous_pages: set[str] | None,
    max_page_loss: float = DEFAULT_MAX_PAGE_LOSS,
    force: bool = False,
) -> CheckReport:
    """Every pre-deploy check over one site's output; the report lists problems per check."""
    pages = scan_html(root)
    report = CheckReport(site)
    report.problems["links"] = [str(p) for p in check_links(root, base_url, pages)]
    report.problems["sitemaps"] = check_sitemaps(root, base_url, pages)
    report.problems["leaks"] = check_leaks(root, secret_values(env), local_paths(project_root))
    report.problems["drafts"] = check_drafts(root, content_dir)
    report.problems["titles"] = check_unique_titles(pages)
    for name, checker in (("_headers", check_headers_file), ("_redirects", check_redirects_file)):
        path = root / name
        report.problems[name] = checker(path.read_text(encoding="utf-8")) if path.is_file() else []
    loss = check_page_loss(previous_pages, output_pages(root), max_page_loss)
    report.problems["page loss"] = [] if force else loss
    return report


__all__ = ["CheckReport", "LinkProblem", "check_links", "run_checks"]
