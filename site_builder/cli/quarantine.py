"""`site-builder quarantine`: an editor's review of price rows held back from publication."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from rich.table import Table

from site_builder.cli.app import AppContext, Group
from site_builder.pull.gpu import quarantine as quarantine_store


@click.group(cls=Group)
def quarantine() -> None:
    """Price rows held back from publication: review and decide.

    An unknown GPU name, a broken rule, a missing exchange rate or a price that moved
    by more than 50% since the last accepted one is quarantined by the pull. A held
    price move is confirmed by a pull at least 12 h later, on a later UTC day, that sees
    it again, or by an editor here; a return to the old price clears it.
    """


@quarantine.command("list")
@click.option(
    "--status",
    type=click.Choice(["pending", "accepted", "rejected", "cleared", "all"]),
    default="pending",
    show_default=True,
)
@click.option("--provider", help="Only this provider's rows.")
@click.pass_obj
def quarantine_list(app: AppContext, status: str, provider: str | None) -> None:
    """List quarantined rows with their reasons."""
    with app.engine().connect() as connection:
        rows = quarantine_store.list_rows(
            connection, status=None if status == "all" else status, provider=provider
        )
    if not rows:
        app.console.print(f"no {'' if status == 'all' else status + ' '}rows in quarantine")
        return
    table = Table(title=f"Quarantine ({status})")
    for column in ("id", "provider", "reason", "offer", "status", "since", "detail"):
        table.add_column(column, justify="right" if column == "id" else "left")
    for row in rows:
        table.add_row(
            str(row.id),
            row.provider,
            row.reason_code,
            row.offer_key,
            row.status,
            f"{row.created_at:%Y-%m-%d}",
            row.reason,
        )
    app.console.print(table)


@quarantine.command("accept")
@click.argument("row_ids", nargs=-1, type=int, required=True)
@click.pass_obj
def quarantine_accept(app: AppContext, row_ids: tuple[int, ...]) -> None:
    """Publish held price moves now (by row id from `quarantine list`)."""
    now = datetime.now(UTC)
    with app.engine().begin() as connection:
        for row_id in row_ids:
            app.console.print(
                f"#{row_id} accepted: {quarantine_store.accept(connection, row_id, now=now)}"
            )


@quarantine.command("reject")
@click.argument("row_ids", nargs=-1, type=int, required=True)
@click.pass_obj
def quarantine_reject(app: AppContext, row_ids: tuple[int, ...]) -> None:
    """Dismiss rows; a rejected price move keeps the last accepted price."""
    now = datetime.now(UTC)
    with app.engine().begin() as connection:
        for row_id in row_ids:
            app.console.print(
                f"#{row_id} rejected: {quarantine_store.reject(connection, row_id, now=now)}"
            )
