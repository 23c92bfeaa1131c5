"""The public status page both sites publish at `/status/` (with `/status.json`): what each
site's page kind module (`sites/<site>/pages/status.py`) yields, from the status its
dataset carries (`site_builder.ops.public.public_status`, read at load).

The page is `noindex` and out of the sitemap: it is for visitors who wonder whether the
figures are current, not for search. Its `lastmod` is the day of the newest data update.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

from site_builder.config import SiteConfig
from site_builder.ops.public import status_document
from site_builder.render.datafiles import json_file
from site_builder.render.page import Breadcrumb, Page

URL = "/status/"
JSON_PATH = "status.json"


def status_pages(
    status: dict[str, Any] | None, site: SiteConfig, template: str, home: Breadcrumb
) -> Iterator[Page]:
    if status is None:
        return
    stale = status["stale"]
    as_of = status["data_as_of"]
    yield Page(
        kind="status",
        url=URL,
        template=template,
        title=f"{site.title} status: how current our data is",
        description=(
            f"Stale now: {', '.join(stale)}." if stale else "Every data source is up to date."
        )
        + (f" This version was built from data up to {as_of}." if as_of else ""),
        context={"status": status, "json_url": "/" + JSON_PATH},
        lastmod=datetime.combine(date.fromisoformat(as_of), time(), tzinfo=UTC) if as_of else None,
        indexable=False,
        breadcrumbs=(home, Breadcrumb("Status", URL)),
    )


def status_json(status: dict[str, Any] | None, site: SiteConfig) -> Iterator[tuple[str, bytes]]:
    if status is None:
        return
    yield JSON_PATH, json_file(status_document(status, site.title))
