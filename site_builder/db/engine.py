"""Engine creation: SQLite file by default, PostgreSQL (psycopg 3) when DATABASE_URL says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from site_builder.errors import ConfigError


def default_sqlite_url(database_file: Path) -> str:
    return f"sqlite:///{database_file}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets `serve` or a report read while a pull writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for a database URL; SQLite files get their folder created."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"DATABASE_URL is not a database URL: {url!r}"
            " (expected e.g. postgresql+psycopg://user@host:5432/db)"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if not parsed.drivername.startswith("postgresql"):
        raise ConfigError(
            f"unsupported database {parsed.drivername!r}: use SQLite (default) or PostgreSQL"
        )
    return create_engine(parsed, pool_pre_ping=True)


def connect(database_url: str | None, default_file: Path) -> Engine:
    """The engine for the configured store: DATABASE_URL if set, else the project's SQLite file."""
    return make_engine(database_url or default_sqlite_url(default_file))
