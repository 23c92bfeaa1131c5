"""The build stage: page kinds yield pages; the engine renders, minifies and writes them.

Output is deterministic: the same store gives byte-identical files, and a file is only
rewritten when its bytes change, so unchanged pages never re-upload.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from site_builder.build.netlify_files import headers_file, indexnow_key_file, redirects_file
from site_builder.build.page import Page, output_path
from site_builder.build.render import make_environment, minify
from site_builder.build.sitemap import build_sitemaps, robots_txt
from site_builder.build.writer import OutputWriter
from site_builder.config import Project
from site_builder.errors import SiteBuilderError
from site_builder.sites import site_module


@dataclass
class BuildReport:
    site: str
    pages_by_kind: Counter[str] = field(default_factory=Counter)
    written: int = 0
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def pages(self) -> int:
        return sum(self.pages_by_kind.values())


def _copy_assets(assets_dir: Path, writer: OutputWriter) -> dict[str, str]:
    """Copy shared assets with a content hash in the name; returns name -> URL."""
    urls: dict[str, str] = {}
    if not assets_dir.is_dir():
        return urls
    for path in sorted(p for p in assets_dir.rglob("*") if p.is_file()):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:10]
        relative = path.relative_to(assets_dir).as_posix()
        stem, dot, suffix = relative.rpartition(".")
        fingerprinted = f"assets/{stem}.{digest}.{suffix}" if dot else f"assets/{relative}.{digest}"
        writer.write(fingerprinted, data)
        urls[relative] = "/" + fingerprinted
    return urls


def build_site(
    engine: Engine, project: Project, site_name: str, *, indexnow_key: str | None = None
) -> BuildReport:
    """Build one site into its output folder (with the IndexNow key file when a key is given)."""
    started = time.monotonic()
    site = project.site(site_name)
    output = project.output_dir(site_name)
    output.mkdir(parents=True, exist_ok=True)
    writer = OutputWriter(output)
    report = BuildReport(site=site_name)
    assets = _copy_assets(project.templates_dir / "shared" / "assets", writer)
    assets |= _copy_assets(project.templates_dir / site_name / "assets", writer)

    def asset(name: str) -> str:
        try:
            return assets[name]
        except KeyError:
            raise SiteBuilderError(f"template asks for unknown asset {name!r}") from None

    environment = make_environment(
        project.templates_dir,
        {"site": {"name": site_name, **site.model_dump(mode="json")}, "asset": asset},
    )
    module = site_module(site_name)
    sitemap_entries = []
    with engine.connect() as connection:
        for kind in site.page_kinds:
            for page in module.PAGE_KINDS[kind](connection, site):
                html = environment.get_template(page.template).render(
                    page=page, canonical=site.base_url + page.url, **page.context
                )
                writer.write(output_path(page.url), minify(html))
                report.pages_by_kind[page.kind] += 1
                if page.indexable:
                    sitemap_entries.append((page.url, page.lastmod))
    not_found: Page = module.not_found_page(site)
    writer.write(
        output_path(not_found.url),
        minify(
            environment.get_template(not_found.template).render(
                page=not_found, canonical=site.base_url + not_found.url, **not_found.context
            )
        ),
    )
    for path, data in module.static_files(site):
        writer.write(path, data)
    for path, data in build_sitemaps(site.base_url, sitemap_entries).items():
        writer.write(path, data)
    writer.write("robots.txt", robots_txt(site.base_url))
    writer.write("_headers", headers_file())
    writer.write("_redirects", redirects_file(project.content_dir / site_name / "_redirects"))
    if indexnow_key:
        writer.write(*indexnow_key_file(indexnow_key))
    report.removed = writer.remove_stale()
    report.written, report.unchanged = writer.written, writer.unchanged
    report.seconds = time.monotonic() - started
    return report
