"""Command line: `site-builder` (one command per stage) and `build-site` (the nightly job).

A thin layer: every command parses options, calls the stage's library function and
prints its report. Failures print one line and exit non-zero; --debug shows the traceback.

One module per command group (`pull`, `build` with `build-site`, `check`, `deploy`, `db`,
`quarantine`, `serve`, `dns_leak_server`, `status`); `app.py` holds the per-run state and the error
handling, `options.py` the shared options, `present.py` every table and the inert console.
What `build-site` runs in which order, and its exit code, is `site_builder.pipeline`.
"""

from __future__ import annotations

from pathlib import Path

import click

from site_builder.cli.agent import agent, exchange
from site_builder.cli.app import AppContext, Group
from site_builder.cli.build import build, build_site
from site_builder.cli.check import check
from site_builder.cli.db import db
from site_builder.cli.deploy import deploy
from site_builder.cli.dns_leak_server import dns_leak_server
from site_builder.cli.options import config_option, debug_option
from site_builder.cli.probe import probe, speed_server
from site_builder.cli.pull import pull
from site_builder.cli.quarantine import quarantine
from site_builder.cli.serve import serve
from site_builder.cli.status import status

__all__ = ["build_site", "main"]


@click.group(cls=Group)
@config_option
@debug_option
@click.version_option(package_name="site_builder")
@click.pass_context
def main(ctx: click.Context, config_file: Path, debug: bool) -> None:
    """site_builder: pull data, build static sites, check them, deploy them.

    Each stage is its own command so it can be run, retried or skipped alone;
    `build-site` runs them all in order.
    """
    ctx.obj = AppContext(config_file=config_file, debug=debug)


for command in (pull, build, check, deploy, serve, quarantine, db, dns_leak_server, status):
    main.add_command(command)
main.add_command(agent)  # issue 26: the server agent, and the exchange's retention
main.add_command(exchange)
main.add_command(probe)  # issue 26: the probe node and its LibreSpeed-protocol speed server
main.add_command(speed_server)
