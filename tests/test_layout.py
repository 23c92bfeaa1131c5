"""The code's layout is part of its contract: a newcomer finds a page kind by its name.

Each site's page kinds live one module each in `site_builder/sites/<site>/pages/<kind>.py`,
named exactly as in `sites.toml`, and the site module's `PAGE_KINDS` registry maps each
name to that module's function. These tests fail when a kind and its module drift apart.
"""

from __future__ import annotations

import ast
import subprocess
import sys
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
        assert set(sources) <= {"prices", "servers", "measurements"}


LONG_MODULE_LINES = 500
ONE_PIECE = "one piece"  # what a longer module's docstring says, with the reason


def test_no_module_is_past_500_lines_unless_its_docstring_says_why() -> None:
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > LONG_MODULE_LINES and ONE_PIECE not in (
            ast.get_docstring(ast.parse(text)) or ""
        ).lower():
            long.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    assert not long, f"split these, or say in the docstring why each is one piece: {long}"


@pytest.mark.parametrize(
    "package",
    [
        "site_builder.cli",
        "site_builder.pipeline",
        "site_builder.pull.gpu",
        "site_builder.pull.measurements",
        "site_builder.render",
        "site_builder.publish",
        "site_builder.check",
        "site_builder.check.promote",
        "site_builder.deploy",
        "site_builder.sites.cloudgpus",
        "site_builder.sites.bestvpnserver",
    ],
)
def test_each_package_imports_first_in_a_fresh_interpreter(package: str) -> None:
    """No import cycle hides behind the order the CLI happens to import things in."""
    result = subprocess.run(
        [sys.executable, "-c", f"import {package}"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
