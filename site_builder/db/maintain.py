"""Retention: raw time series older than the window are purged; rollups are kept. Old
deploys keep their figures but drop their file manifests. The run history (runs, their
steps, alerts sent) older than its window is deleted.

On PostgreSQL, monthly partitions that lie wholly before the cut-off are dropped (instant,
no table bloat) and the rest is deleted row by row; on SQLite rows are deleted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, String, cast, delete, func, select, text, update

from site_builder.db.models import PARTITIONED_TABLES, Base, SiteDeploy
from site_builder.db.models_runs import OpsAlert, OpsRun, OpsStep
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


def prune_manifests(engine: Engine, keep: int) -> int:
    """Empty the file manifests of all but each site's `keep` newest deploys, and never that
    of its newest production deploy (the page-loss guard and IndexNow compare against it).
    A manifest lists every file of the site, so one per night adds up; the deploy's row and
    figures stay. Returns how many manifests were emptied."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    table = SiteDeploy.__table__
    newest_first = (table.c.created_at.desc(), table.c.id.desc())
    emptied = 0
    with engine.begin() as connection:
        sites = connection.execute(select(table.c.site).distinct()).scalars().all()
        for site in sites:
            kept = set(
                connection.execute(
                    select(table.c.id)
                    .where(table.c.site == site)
                    .order_by(*newest_first)
                    .limit(keep)
                ).scalars()
            )
            kept |= set(
                connection.execute(
                    select(table.c.id)
                    .where(table.c.site == site, table.c.draft.is_(False))
                    .order_by(*newest_first)
                    .limit(1)
                ).scalars()
            )
            emptied += connection.execute(
                update(table)
                .where(
                    table.c.site == site,
                    table.c.id.not_in(kept),
                    func.length(cast(table.c.manifest, String)) > 2,  # not already "{}"
                )
                .values(manifest={})
            ).rowcount
    return emptied


def prune_runs(engine: Engine, keep_days: int, now: datetime | None = None) -> dict[str, int]:
    """Delete runs (with their steps) that started, and alerts sent, more than `keep_days`
    ago. A run still marked running is kept whatever its age: it tells of a killed run.
    Returns rows removed per table."""
    if keep_days < 1:
        raise ValueError("keep_days must be at least 1")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    runs, steps, alerts = OpsRun.__table__, OpsStep.__table__, OpsAlert.__table__
    with engine.begin() as connection:
        old = select(runs.c.id).where(runs.c.started_at < cutoff, runs.c.outcome != "running")
        removed = {
            "ops_steps": connection.execute(delete(steps).where(steps.c.run_id.in_(old))).rowcount
        }
        removed["ops_runs"] = connection.execute(
            delete(runs).where(runs.c.started_at < cutoff, runs.c.outcome != "running")
        ).rowcount
        removed["ops_alerts"] = connection.execute(
            delete(alerts).where(alerts.c.day < cutoff.date())
        ).rowcount
    return removed
