"""Alembic environment: the engine is handed in by site_builder.db.migrate, never read here."""

from alembic import context

from site_builder.db.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    engine = context.config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations()
