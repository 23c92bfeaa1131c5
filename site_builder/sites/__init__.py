"""One package per site: its queries (SQLAlchemy Core -> plain data) and its page kinds.

A site package exposes ``PAGE_KINDS`` (kind name -> function(connection, site config) that
yields pages), ``not_found_page(site)`` and ``static_files(site)`` (path, bytes) pairs.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

SITE_PACKAGES = {
    "cloudgpus": "site_builder.sites.cloudgpus.pages",
    "bestvpnserver": "site_builder.sites.bestvpnserver.pages",
}


def site_module(name: str) -> ModuleType:
    return import_module(SITE_PACKAGES[name])


def available_page_kinds() -> dict[str, frozenset[str]]:
    return {name: frozenset(site_module(name).PAGE_KINDS) for name in SITE_PACKAGES}
