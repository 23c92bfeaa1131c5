"""Shared fixtures: a fresh store on SQLite and PostgreSQL, and an isolated project copy."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from site_builder.db import make_engine, upgrade

ROOT = Path(__file__).resolve().parent.parent
# Demo builds in tests generate the small demo data set (every shape, a few hundred servers).
os.environ.setdefault("SITE_BUILDER_DEMO_SCALE", "small")
FIXTURES = Path(__file__).parent / "fixtures"
POSTGRES_URL_ENV = "SITE_BUILDER_TEST_POSTGRES_URL"
POSTGRES_URL = os.environ.get(POSTGRES_URL_ENV)


def _reset_postgres(url: str) -> Engine:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    return engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database, on each supported backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_URL_ENV},"
            " e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
    _reset_postgres(POSTGRES_URL).dispose()
    yield POSTGRES_URL


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated, empty store."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def copy_project(target: Path) -> Path:
    """A copy of the checked-in project (config, templates, data) in `target`, which must not
    exist yet. The small demo scale has 3 days of runs, so server pages are gated at 3 runs."""
    target.mkdir(parents=True)
    config = (ROOT / "sites.toml").read_text()
    (target / "sites.toml").write_text(
        config.replace("min_runs_per_server = 10", "min_runs_per_server = 3")
    )
    shutil.copytree(ROOT / "templates", target / "templates")
    shutil.copytree(ROOT / "content", target / "content")
    shutil.copytree(ROOT / "netlify/functions", target / "netlify/functions")
    shutil.copytree(
        ROOT / "data",
        target / "data",
        ignore=shutil.ignore_patterns("site.db*", "archive", "rejects", "measurements"),
    )
    return target


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A copy of the checked-in project (config, templates, data) in a temporary folder."""
    return copy_project(tmp_path / "project")


@pytest.fixture
def built(project_dir: Path) -> Path:
    """The demo project copy, built (both sites, SQLite store.db), with node_modules linked."""
    from click.testing import CliRunner

    from site_builder.cli import build_site

    if (ROOT / "node_modules").exists():
        os.symlink(ROOT / "node_modules", project_dir / "node_modules")
    result = CliRunner().invoke(
        build_site,
        ["--config", str(project_dir / "sites.toml"), "--demo", "--skip-deploy"],
        env={"DATABASE_URL": f"sqlite:///{project_dir / 'store.db'}"},
    )
    assert result.exit_code == 0, result.output
    return project_dir
