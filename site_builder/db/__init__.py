"""The store: SQLAlchemy 2 models, engine creation and alembic migrations.

SQLite (a file under data/) is the embedded default; PostgreSQL via psycopg 3 in production.
"""

from site_builder.db.engine import connect, default_sqlite_url, make_engine
from site_builder.db.migrate import upgrade

__all__ = ["connect", "default_sqlite_url", "make_engine", "upgrade"]
