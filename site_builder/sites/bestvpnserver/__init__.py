"""The bestvpnserver site: VPN servers and providers ranked by measurement.

The site module the engine reads (see ``site_builder/sites/__init__.py``): `fingerprint`,
`load`, the page kinds (one module each in `pages/`, named as in `sites.toml`), the data
files, static files, the 404 page and the editors' blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from site_builder.config import Project, SiteConfig
from site_builder.ops.freshness import SOURCE_KINDS
from site_builder.ops.public import public_status
from site_builder.pull.servers.providers import ADAPTERS as SERVER_LIST_ADAPTERS
from site_builder.render.writer import Content
from site_builder.sites.bestvpnserver import inventory, queries
from site_builder.sites.bestvpnserver.blocks import blocks
from site_builder.sites.bestvpnserver.common import Dataset
from site_builder.sites.bestvpnserver.datafiles import data_files as site_data_files
from site_builder.sites.bestvpnserver.facts import Facts, load_facts
from site_builder.sites.bestvpnserver.load import load
from site_builder.sites.bestvpnserver.origin import provenance
from site_builder.sites.bestvpnserver.pages.about import about_pages
from site_builder.sites.bestvpnserver.pages.compare import compare_pages
from site_builder.sites.bestvpnserver.pages.country import country_pages
from site_builder.sites.bestvpnserver.pages.home import home_pages
from site_builder.sites.bestvpnserver.pages.protocol import protocol_pages
from site_builder.sites.bestvpnserver.pages.provider import provider_pages
from site_builder.sites.bestvpnserver.pages.ranking import ranking_pages
from site_builder.sites.bestvpnserver.pages.server import server_pages
from site_builder.sites.bestvpnserver.pages.status import status_pages
from site_builder.sites.bestvpnserver.pages.streaming import streaming_pages
from site_builder.sites.bestvpnserver.pages.tools import tools_pages
from site_builder.sites.bestvpnserver.static import not_found_page, static_files
from site_builder.sites.status import status_json

# The freshness its public status page shows (`site_builder.ops.freshness`).
STATUS_KINDS = SOURCE_KINDS["measurements"]

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
    "provenance",
    "static_files",
]


def fingerprint(connection: Connection) -> list[Any]:
    return [
        *queries.fingerprint(connection),
        inventory.fingerprint(connection),
        public_status(connection, STATUS_KINDS),
    ]


def editor_data(project: Project, site: SiteConfig) -> Facts:
    """The editors' provider facts file named in `sites.toml`; a broken one gives no facts
    and its problem, which the engine reports on every build."""
    known = {adapter.slug for adapter in SERVER_LIST_ADAPTERS}
    return load_facts(site.editor_data.get("provider_facts"), known)


def data_files(data: Dataset | None, site: SiteConfig) -> Iterator[tuple[str, Content]]:
    yield from site_data_files(data, site)
    if data is not None:
        yield from status_json(data.status, site)


# Page kind name (as in sites.toml) -> the function (or ShardedKind) of its module.
# The kinds' functions are imported, not their modules: a module imported by name here
# would shadow a sibling of this package with the same name (pages/tools.py and tools.py).
PAGE_KINDS = {
    "home": home_pages,
    "ranking": ranking_pages,
    "provider": provider_pages,
    "country": country_pages,
    "protocol": protocol_pages,
    "server": server_pages,
    "streaming": streaming_pages,
    "compare": compare_pages,
    "about": about_pages,
    "tools": tools_pages,
    "status": status_pages,
}
NEEDS_DATA = frozenset(PAGE_KINDS) - {"tools"}
# Kinds whose pages are made by thunks: the engine splits them across the render workers.
SPLIT_KINDS = frozenset({"ranking", "provider", "country", "protocol", "compare"})
