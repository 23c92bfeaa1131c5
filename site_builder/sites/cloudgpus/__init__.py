"""The cloudgpus site: GPU cloud prices across providers.

The site module the engine reads (see ``site_builder/sites/__init__.py``): `fingerprint`,
`load`, the page kinds (one module each in `pages/`, named as in `sites.toml`), the data
files, static files, the 404 page and the editors' blocks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from site_builder.config import SiteConfig
from site_builder.ops.freshness import SOURCE_KINDS
from site_builder.ops.public import public_status
from site_builder.render.writer import Content
from site_builder.sites.cloudgpus import history as price_history
from site_builder.sites.cloudgpus import queries
from site_builder.sites.cloudgpus.blocks import blocks
from site_builder.sites.cloudgpus.common import Dataset, via
from site_builder.sites.cloudgpus.datafiles import data_files as site_data_files
from site_builder.sites.cloudgpus.pages.about import about_pages
from site_builder.sites.cloudgpus.pages.calculator import calculator_pages
from site_builder.sites.cloudgpus.pages.changes import changes_pages
from site_builder.sites.cloudgpus.pages.compare import compare_pages
from site_builder.sites.cloudgpus.pages.country import country_pages
from site_builder.sites.cloudgpus.pages.gpu import gpu_pages
from site_builder.sites.cloudgpus.pages.gpu_compare import gpu_compare_pages
from site_builder.sites.cloudgpus.pages.home import home_pages
from site_builder.sites.cloudgpus.pages.provider import provider_pages
from site_builder.sites.cloudgpus.pages.region import region_pages
from site_builder.sites.cloudgpus.pages.status import status_pages
from site_builder.sites.cloudgpus.regions import with_region_labels
from site_builder.sites.cloudgpus.specs import SpecsInput, editor_data
from site_builder.sites.cloudgpus.static import not_found_page, static_files
from site_builder.sites.status import status_json

# The freshness its public status page shows (`site_builder.ops.freshness`).
STATUS_KINDS = SOURCE_KINDS["prices"]

__all__ = [
    "NEEDS_DATA",
    "PAGE_KINDS",
    "SPLIT_KINDS",
    "blocks",
    "data_files",
    "editor_data",
    "fingerprint",
    "load",
    "not_found_page",
    "static_files",
]


def fingerprint(connection: Connection) -> list[Any]:
    return [*queries.fingerprint(connection), public_status(connection, STATUS_KINDS)]


def data_files(data: Dataset | None, site: SiteConfig) -> Iterator[tuple[str, Content]]:
    yield from site_data_files(data, site)
    if data is not None:
        yield from status_json(data.status, site)


def load(
    connection: Connection, site: SiteConfig, jobs: int = 1, editor: SpecsInput | None = None
) -> Dataset | None:
    """Everything the pages need (small enough to read on one process whatever `jobs`),
    with the editors' spec-sheet figures the build read (`editor_data`)."""
    offers = with_region_labels(queries.active_offers(connection))
    if not offers:
        return None
    with_offers = {o["gpu_model_slug"] for o in offers}
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    # aggregators resell other clouds' machines: never counted in a GPU's price history
    aggregators = {o["provider_slug"] for o in offers if via(o)}
    for row in queries.price_history(connection):
        if row["provider_slug"] not in aggregators:
            history[row["gpu_model_slug"]].append(row)
    with_offer_providers = {o["provider_slug"] for o in offers}
    end = price_history.newest_day(connection)
    changes = (
        price_history.price_changes(
            price_history.window_points(connection, end, price_history.CHANGE_WINDOW_DAYS),
            {o["id"]: o for o in offers},
            end=end,
        )
        if end is not None
        else []
    )
    return Dataset(
        offers=offers,
        models={m["slug"]: m for m in queries.gpu_models(connection) if m["slug"] in with_offers},
        providers={
            p["slug"]: p
            for p in queries.providers_with_health(connection)
            if p["slug"] in with_offer_providers
        },
        history=dict(history),
        as_of=max(o["last_seen_at"] for o in offers),
        status=public_status(connection, STATUS_KINDS),
        on_request=[
            r
            for r in queries.offers_on_request(connection)
            if r["provider_slug"] in with_offer_providers
        ],
        specs={s: v for s, v in (editor.specs if editor else {}).items() if s in with_offers},
        changes=changes,
        history_end=end,
    )


# Page kind name (as in sites.toml) -> the function of its module that yields its pages.
# The kinds' functions are imported, not their modules: a module imported by name here
# would shadow a sibling of this package with the same name (pages/tools.py and tools.py).
PAGE_KINDS = {
    "home": home_pages,
    "gpu": gpu_pages,
    "provider": provider_pages,
    "compare": compare_pages,
    "gpu_compare": gpu_compare_pages,
    "region": region_pages,
    "country": country_pages,
    "calculator": calculator_pages,
    "changes": changes_pages,
    "about": about_pages,
    "status": status_pages,
}
NEEDS_DATA = frozenset(PAGE_KINDS)
# Made in the render workers rather than here: each worker makes every page of a kind once
# (they are cheap) and keys and renders its share, so the pages are never pickled over to
# it (which cost this process more than making them).
SPLIT_KINDS = frozenset({"gpu", "provider", "compare", "gpu_compare", "region", "country"})
