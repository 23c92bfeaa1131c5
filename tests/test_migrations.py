"""The same migrations bring SQLite and PostgreSQL to a schema matching the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from site_builder.db import make_engine, upgrade
from site_builder.db.migrate import current_revision, head_revision
from site_builder.db.models import PARTITIONED_TABLES, Base


def test_upgrade_creates_every_table_and_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    assert upgrade(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    assert upgrade(engine) == head_revision()


def test_time_series_tables_are_partitioned_by_month_on_postgresql(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        partitioned = set(
            connection.execute(
                text(
                    "SELECT c.relname FROM pg_partitioned_table p"
                    " JOIN pg_class c ON c.oid = p.partrelid"
                )
            ).scalars()
        )
    assert partitioned == set(PARTITIONED_TABLES)
