"""Monthly partitions for time-series tables on PostgreSQL, created on demand before inserts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Connection, text

from site_builder.db.models import PARTITIONED_TABLES


def month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    return (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )


def partition_name(table: str, start: datetime) -> str:
    return f"{table}_y{start.year:04d}m{start.month:02d}"


def ensure_partitions(connection: Connection, table: str, moments: Iterable[datetime]) -> None:
    """Create the monthly partitions of `table` that `moments` fall in (PostgreSQL only)."""
    if connection.dialect.name != "postgresql":
        return
    if table not in PARTITIONED_TABLES:
        raise ValueError(f"{table} is not a partitioned table")
    for start in sorted({month_start(m.astimezone(UTC)) for m in moments}):
        end = next_month(start)
        connection.execute(
            text(
                f'CREATE TABLE IF NOT EXISTS "{partition_name(table, start)}"'
                f' PARTITION OF "{table}"'
                f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
        )
