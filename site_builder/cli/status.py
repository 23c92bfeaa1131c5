"""`site-builder status`: the last runs, each source's freshness against its rule, the
quarantine and the circuit breakers; exits 1 when a rule is broken or the newest run of a
command went wrong (the logic is `site_builder.ops.status`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from site_builder.cli.app import AppContext, Command
from site_builder.cli.present import status_tables
from site_builder.ops import load_rules
from site_builder.ops.status import gather


@click.command(cls=Command)
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON for machines.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Summarise the store's health: last runs, freshness, quarantine, breakers.

    Each source's newest data is held against the rules in data/freshness.toml (the
    newest accepted price per provider, the newest batch per probe, the newest heartbeat
    per server agent, the newest deploy per site). Exits 1 when a rule is broken, a
    breaker is open, or the newest run of a command failed, naming each problem.
    """
    app: AppContext = ctx.obj
    project = app.project
    rules = load_rules(project.path(project.config.paths.freshness_rules))
    with app.engine().connect() as connection:
        report = gather(connection, rules, project.select_sites(()), datetime.now(UTC))
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, sort_keys=True))
    else:
        for table in status_tables(report):
            app.console.print(table)
        if report.problems:
            for problem in report.problems:
                app.console.print(f"problem: {problem.message}", style="red")
        else:
            app.console.print("status: every rule holds; the newest runs passed")
    ctx.exit(report.exit_code)
