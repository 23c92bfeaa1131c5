"""`site-builder agent` (the server agent) and `site-builder exchange` (retention)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click

from site_builder.agent.run import Agent, agent_key, load_config
from site_builder.cli.app import AppContext, Group
from site_builder.exchange.publish import prune_exchange, prune_sent
from site_builder.exchange.settings import ExchangeSettings


@click.group(cls=Group)
def agent() -> None:
    """The agent on each VPN server: load and service heartbeats (docs/agent.md)."""


@agent.command("run")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=Path("/etc/site-builder/agent.toml"),
    show_default=True,
    help="The agent's configuration (id, server, services, spool, destination).",
)
@click.option(
    "--heartbeats",
    type=click.IntRange(min=1),
    help="Stop after this many heartbeats (default: run until stopped).",
)
@click.pass_obj
def agent_run(app: AppContext, config_path: Path, heartbeats: int | None) -> None:
    """Sample load every 30 s, write a heartbeat every 2 minutes, publish every 5.

    Stops cleanly on SIGTERM or SIGINT: what was journaled is spooled and published."""
    config = load_config(config_path)
    secret = agent_key(config, app.env.values)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    runner = Agent(
        config,
        secret,
        exchange=ExchangeSettings.from_env(app.env.values),
        log=lambda line: click.echo(line),
    )
    click.echo(f"agent {config.id}: heartbeats to {config.destination or config.spool}")
    runner.run(stop, max_heartbeats=heartbeats)
    click.echo(f"agent {config.id}: {runner.heartbeats} heartbeats, {runner.published} batches")


@click.group(cls=Group)
def exchange() -> None:
    """The S3 batch exchange that probes and agents publish to."""


@exchange.command("prune")
@click.option("--destination", required=True, help="s3://bucket/prefix")
@click.option("--producer", required=True, help="The probe or agent id whose batches to prune.")
@click.option("--keep-days", type=click.IntRange(min=1), default=90, show_default=True)
@click.option(
    "--spool",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also delete this spool's sent/ copies older than that.",
)
@click.pass_obj
def exchange_prune(
    app: AppContext, destination: str, producer: str, keep_days: int, spool: Path | None
) -> None:
    """Delete a producer's batches published more than --keep-days ago (listing first)."""
    removed = prune_exchange(
        destination,
        probe=producer,
        keep_days=keep_days,
        settings=ExchangeSettings.from_env(app.env.values),
    )
    click.echo(f"{destination}: {len(removed)} batches of {producer} removed")
    if spool is not None:
        local = prune_sent(spool, keep_days=keep_days)
        click.echo(f"{spool}: {len(local)} sent batches removed")
