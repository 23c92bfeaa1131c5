"""Pages and files that need no data: the 404 page and the speed test's payloads."""

from __future__ import annotations

from collections.abc import Iterator

from site_builder.config import SiteConfig
from site_builder.render.page import Page
from site_builder.sites.bestvpnserver import tools


def not_found_page(site: SiteConfig) -> Page:
    return Page(
        kind="404",
        url="/404.html",
        template="bestvpnserver/404.html",
        title=f"Page not found · {site.title}",
        description="This page does not exist. See the fastest measured VPN servers instead.",
        context={},
        indexable=False,
    )


def static_files(site: SiteConfig) -> Iterator[tuple[str, bytes]]:
    if "tools" in site.page_kinds:
        yield from tools.payload_files()
