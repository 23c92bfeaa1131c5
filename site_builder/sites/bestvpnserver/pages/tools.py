"""The live tools' pages (my IP, DNS leak test, speed test): they need no data."""

from __future__ import annotations

from collections.abc import Iterator

from site_builder.config import SiteConfig
from site_builder.render.page import Page
from site_builder.sites.bestvpnserver import tools
from site_builder.sites.bestvpnserver.common import Dataset


def tools_pages(data: Dataset | None, site: SiteConfig) -> Iterator[Page]:
    return tools.tool_pages(site)
