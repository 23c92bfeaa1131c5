"""Retention: raw time series older than the window are purged; rollups are kept.

On PostgreSQL, monthly partitions that lie wholly before the cut-off are dropped (instant,
no table bloat) and the rest is deleted row by row; on SQLite rows are deleted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, text

from site_builder.db.models import PARTITIONED_TABLES, Base
from site_builder.db.partitions import next_month

PARTITION_NAME = re.compile(r"_y(\d{4})m(\d{2})$")


def purge_raw(engine: Engine, keep_days: int, now: datetime | None = None) -> dict[str, int]:
    """Delete raw measurements, streaming checks and heartbeats older than `keep_days`.

    Returns rows removed per table (dropped partitions counted by their row count)."""
    if keep_days < 1:
        raise ValueError("keep_days must be at least 1")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    removed: dict[str, int] = {}
    with engine.begin() as connection:
        for table_name, column in PARTITIONED_TABLES.items():
            count = 0
            if connection.dialect.name == "postgresql":
                partitions = connection.execute(
                    text(
                        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                        " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :parent"
                    ),
                    {"parent": table_name},
                ).scalars()
                for name in sorted(partitions):
                    match = PARTITION_NAME.search(name)
                    if not match:
                        continue
                    start = datetime(int(match.group(1)), int(match.group(2)), 1, tzinfo=UTC)
                    if next_month(start) <= cutoff:
                        count += connection.execute(
                            text(f'SELECT count(*) FROM "{name}"')
                        ).scalar_one()
                        connection.execute(text(f'DROP TABLE "{name}"'))
            table = Base.metadata.tables[table_name]
            count += connection.execute(delete(table).where(table.c[column] < cutoff)).rowcount
            removed[table_name] = count
    return removed
