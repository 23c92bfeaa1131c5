"""The code's layout is part of its contract: a newcomer finds a page kind by its name.

Each site's page kinds live one module each in `site_builder/sites/<site>/pages/<kind>.py`,
named exactly as in `sites.toml`, and the site module's `PAGE_KINDS` registry maps each
name to that module's function. These tests fail when a kind and its module drift apart.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from site_builder.render.parallel import ShardedKind
from site_builder.sites import SITE_PACKAGES, SITE_SOURCES, site_module

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "site_builder"
CONFIGURED = tomllib.loads((ROOT / "sites.toml").read_text(encoding="utf-8"))["sites"]


def _pages_folder(site: str) -> Path:
    return PACKAGE / "sites" / site / "pages"


def _kind_modules(site: str) -> set[str]:
    return {p.stem for p in _pages_folder(site).glob("*.py") if p.stem != "__init__"}


@pytest.mark.parametrize("site", sorted(SITE_PACKAGES))
def test_every_configured_kind_has_its_module_and_every_module_its_entry(site: str) -> None:
    registry = site_module(site).PAGE_KINDS
    modules = _kind_modules(site)
    configured = set(CONFIGURED[site]["page_kinds"])
    assert configured <= modules, f"kinds in sites.toml without a module: {configured - modules}"
    assert modules == set(registry), (
        f"pages/ modules without a PAGE_KINDS entry: {modules - set(registry)};"
        f" entries without a module: {set(registry) - modules}"
    )


@pytest.mark.parametrize("site", sorted(SITE_PACKAGES))
def test_each_registry_entry_comes_from_the_module_of_its_name(site: str) -> None:
    for kind, entry in site_module(site).PAGE_KINDS.items():
        function = entry.pages if isinstance(entry, ShardedKind) else entry
        assert function.__module__ == f"site_builder.sites.{site}.pages.{kind}", (
            f"{site} kind {kind!r} is made by {function.__module__}.{function.__qualname__}"
        )


def test_every_site_says_which_data_sources_it_reads() -> None:
    assert set(SITE_SOURCES) == set(SITE_PACKAGES)
    for sources in SITE_SOURCES.values():
        assert set(sources) <= {"prices", "measurements"}
