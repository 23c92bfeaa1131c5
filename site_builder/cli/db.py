"""`site-builder db`: schema migrations and maintenance of the store."""

from __future__ import annotations

import click

from site_builder.cli.app import AppContext, Group
from site_builder.db.migrate import current_revision


@click.group(cls=Group)
def db() -> None:
    """Manage the store: apply schema migrations (SQLite or $DATABASE_URL)."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(app: AppContext) -> None:
    """Run the schema migrations up to the newest (SQLite or $DATABASE_URL)."""
    engine = app.engine(migrate=True)
    app.console.print(
        f"database at revision {current_revision(engine)}"
        f" ({engine.url.render_as_string(hide_password=True)})"
    )


@db.command("maintain")
@click.option(
    "--keep-days",
    default=90,
    show_default=True,
    type=click.IntRange(1),
    help="Keep raw measurements, streaming checks and heartbeats this many days.",
)
@click.option(
    "--keep-manifests",
    default=10,
    show_default=True,
    type=click.IntRange(1),
    help="Keep the file manifests of each site's newest deploys (and its last production one).",
)
@click.option(
    "--keep-runs-days",
    default=180,
    show_default=True,
    type=click.IntRange(1),
    help="Keep the run history (runs, steps, alerts sent) this many days.",
)
@click.pass_obj
def db_maintain(app: AppContext, keep_days: int, keep_manifests: int, keep_runs_days: int) -> None:
    """Purge raw VPN time series older than --keep-days (rollups are kept), the file
    manifests of older deploys (their figures are kept), and run history older than
    --keep-runs-days."""
    from site_builder.db.maintain import prune_manifests, prune_runs, purge_raw

    engine = app.engine()
    removed = purge_raw(engine, keep_days)
    for table, count in removed.items():
        app.console.print(f"{table}: {count:,} rows older than {keep_days} days removed")
    emptied = prune_manifests(engine, keep_manifests)
    app.console.print(
        f"site_deploys: {emptied:,} manifests emptied (the {keep_manifests} newest per site kept)"
    )
    for table, count in prune_runs(engine, keep_runs_days).items():
        app.console.print(f"{table}: {count:,} rows older than {keep_runs_days} days removed")
