"""The price-changes page: every offer whose price moved in the last 30 days of history,
with its old and new price and the change (history.py computes them)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from site_builder.config import SiteConfig
from site_builder.render.page import Breadcrumb, Page
from site_builder.sites.cloudgpus.common import HOME, Dataset
from site_builder.sites.cloudgpus.history import CHANGE_WINDOW_DAYS, top_changes

URL = "/price-changes/"
# Enough for a reader to scan, light enough for a phone; the data file has every change.
MAX_ROWS = 100


def day_start(day: date) -> datetime:
    """Midnight UTC of a history day: a lastmod from the data that is never in the future."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def changes_context(data: Dataset) -> dict[str, Any]:
    """What the page shows (pure): the capped rows, how many were left out, the window."""
    rows, left_out = top_changes(data.changes, MAX_ROWS)
    end = data.history_end
    return {
        "rows": rows,
        "total": len(data.changes),
        "left_out": left_out,
        "drops": sum(1 for c in data.changes if c["change_usd"] < 0),
        "rises": sum(1 for c in data.changes if c["change_usd"] > 0),
        "window_days": CHANGE_WINDOW_DAYS,
        "first_day": end - timedelta(days=CHANGE_WINDOW_DAYS - 1) if end else None,
        "last_day": end,
        "models": data.models,
    }


def changes_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    context = changes_context(data)
    newest = max((c["changed_on"] for c in data.changes), default=data.history_end)
    yield Page(
        kind="changes",
        url=URL,
        template="cloudgpus/price_changes.html",
        title=f"GPU cloud price changes in the last {CHANGE_WINDOW_DAYS} days",
        description=(
            f"{context['total']} GPU cloud offers changed price in the last"
            f" {CHANGE_WINDOW_DAYS} days of our price history: {context['drops']} cuts and"
            f" {context['rises']} rises, each with the old and new price per GPU-hour."
        ),
        context=context,
        # the newest price move shown, never the build's clock
        lastmod=day_start(newest) if newest else None,
        # a page that says only "nothing changed" is not worth a search result
        indexable=bool(data.changes),
        breadcrumbs=(HOME, Breadcrumb("Price changes", URL)),
    )
