"""The same migrations bring SQLite and PostgreSQL to a schema matching the models."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from site_builder.db import make_engine, upgrade
from site_builder.db.migrate import _alembic_config, current_revision, head_revision
from site_builder.db.models import (
    PARTITIONED_TABLES,
    Base,
    GpuModel,
    GpuOffer,
    GpuProvider,
    GpuRegion,
)


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


def test_storage_column_arrives_empty_on_existing_offers_and_goes_back(database_url: str) -> None:
    """0010 adds gpu_offers.storage_gb: an offer stored before it reads "not stated" (NULL),
    not 0 GB, and a downgrade removes the column again."""
    engine = make_engine(database_url)
    assert upgrade(engine, "0009") == "0009"
    seen = datetime(2026, 12, 1, tzinfo=UTC)
    with engine.begin() as connection:
        # Core inserts name only the columns given (and those with defaults), so they
        # run against the 0009 schema, which has no storage_gb yet.
        connection.execute(
            GpuProvider.__table__.insert().values(
                slug="acme", name="Acme", website="https://a.example"
            )
        )
        connection.execute(
            GpuModel.__table__.insert().values(
                slug="h100-sxm",
                name="H100 SXM",
                vendor="NVIDIA",
                architecture="Hopper",
                vram_gb=80,
                form_factor="SXM",
            )
        )
        connection.execute(
            GpuRegion.__table__.insert().values(provider_slug="acme", code="us", name="US")
        )
        connection.execute(
            GpuOffer.__table__.insert().values(
                provider_slug="acme",
                instance_type="8x-h100",
                region_code="us",
                pricing_kind="on_demand",
                gpu_model_slug="h100-sxm",
                gpu_count=8,
                instance_price_usd=Decimal("16"),
                price_per_gpu_usd=Decimal("2"),
                raw_price="16",
                raw_unit="USD / instance-hour",
                vcpus=208,
                memory_gb=1800.0,
                first_seen_at=seen,
                last_seen_at=seen,
                price_changed_at=seen,
            )
        )
    assert upgrade(engine, "0010") == "0010"
    with engine.connect() as connection:
        row = connection.execute(text("SELECT vcpus, storage_gb FROM gpu_offers")).one()
    assert (row.vcpus, row.storage_gb) == (208, None)
    command.downgrade(_alembic_config(engine), "0009")
    columns = {c["name"] for c in inspect(engine).get_columns("gpu_offers")}
    assert "storage_gb" not in columns and "memory_gb" in columns
    engine.dispose()
