"""One package per site: its queries (SQLAlchemy Core -> plain data) and its page kinds.

A site package exposes:

- ``fingerprint(connection)``: a cheap digest input of everything its pages read; an
  unchanged fingerprint lets a rebuild skip the whole site;
- ``load(connection, site, jobs)``: everything its pages need, read once per build (None
  for an empty store), on up to ``jobs`` processes;
- ``PAGE_KINDS``: kind name -> function(data, site) yielding pages (or page thunks), or a
  ``ShardedKind`` for one page per item; ``NEEDS_DATA``, the kinds skipped when there is
  no data; and ``SPLIT_KINDS``, the kinds the engine splits across the render workers
  (each worker runs the kind's function and makes every n-th page: a kind whose pages
  cost more than its loop yields thunks, so that each page is made once; see
  ``site_builder/render/parallel.py``);
- optionally ``editor_data(project, site)``: the editor-owned data files the site reads
  besides the store (named in ``SiteConfig.editor_data``, paths already resolved), as
  plain data with the problems found reading them (``.problems``); the engine reports
  those problems on every build, keys the site on the files' bytes and passes the data to
  ``load`` as a fourth argument (a broken file costs its figures, never the build);
- ``blocks(environment)``: the live-data blocks editors may use in markdown;
- ``data_files(data, site)`` and ``static_files(site)``: (path, content) pairs written
  beside the pages, the content as bytes or, for large files, an iterable of byte chunks
  (``build.writer.Content``); and ``not_found_page(site)``.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

SITE_PACKAGES = {
    "cloudgpus": "site_builder.sites.cloudgpus",
    "bestvpnserver": "site_builder.sites.bestvpnserver",
}

# The pull stage's data sources each site's pages read, in the order they are pulled:
# `build-site --site NAME` pulls only these, and a failed pull of one source is reported
# against the sites that read it. bestvpnserver pulls the providers' server lists (the
# inventory) before the measurements of those servers.
SITE_SOURCES: dict[str, tuple[str, ...]] = {
    "cloudgpus": ("prices",),
    "bestvpnserver": ("servers", "measurements"),
}


def site_module(name: str) -> ModuleType:
    return import_module(SITE_PACKAGES[name])


def data_sources(name: str) -> tuple[str, ...]:
    return SITE_SOURCES[name]


def available_page_kinds() -> dict[str, frozenset[str]]:
    return {name: frozenset(site_module(name).PAGE_KINDS) for name in SITE_PACKAGES}
