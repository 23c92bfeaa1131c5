"""The public status page: when each provider's prices were last updated, what is stale."""

from __future__ import annotations

from collections.abc import Iterator

from site_builder.config import SiteConfig
from site_builder.render.page import Page
from site_builder.sites.cloudgpus.common import HOME, Dataset
from site_builder.sites.status import status_pages as shared_status_pages


def status_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    yield from shared_status_pages(data.status, site, "cloudgpus/status.html", HOME)
