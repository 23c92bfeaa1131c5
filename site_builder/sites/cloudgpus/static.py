"""Pages and files that need no data: the 404 page, and static files (none for cloudgpus)."""

from __future__ import annotations

from collections.abc import Iterator

from site_builder.config import SiteConfig
from site_builder.render.page import Page


def not_found_page(site: SiteConfig) -> Page:
    return Page(
        kind="404",
        url="/404.html",
        template="cloudgpus/404.html",
        title=f"Page not found · {site.title}",
        description="This page does not exist. Browse current GPU cloud prices instead.",
        context={},
        indexable=False,
    )


def static_files(site: SiteConfig) -> Iterator[tuple[str, bytes]]:
    return iter(())
