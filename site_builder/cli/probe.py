"""`site-builder probe` (run, plan, publish) and `site-builder speed-server` (docs/probe.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from site_builder.cli.app import AppContext, Group
from site_builder.errors import ConfigError
from site_builder.probe.config import load_config

config_path_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=Path("/etc/site-builder/probe.toml"),
    show_default=True,
    help="The probe node's configuration (id, spool, secrets folder, targets).",
)


@click.group(cls=Group)
def probe() -> None:
    """The probe node: measure VPN servers through real tunnels (root or CAP_NET_ADMIN)."""


@probe.command("run")
@config_path_option
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Measure only the servers of this plan (`probe plan --output`); default: every target.",
)
@click.pass_obj
def probe_run(app: AppContext, config_path: Path, plan_path: Path | None) -> None:
    """Measure each target through its own tunnel and spool one signed batch."""
    from site_builder.probe.run import run_probe

    config = load_config(config_path)
    only = None
    if plan_path is not None:
        try:
            only = {
                (s["provider"], s["hostname"]) for s in json.loads(plan_path.read_text())["servers"]
            }
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{plan_path}: not a probe plan: {exc}") from None
    report = run_probe(config, app.env.values, only=only, log=click.echo)
    for name in report.stale_namespaces:
        click.echo(f"removed a stale namespace left by an earlier run: {name}")
    for line in report.failures:
        click.echo(f"failed: {line}")
    for line in report.step_failures:
        click.echo(f"step failed: {line}")
    if report.batch is None:
        click.echo("nothing measured: no batch written")
    else:
        click.echo(
            f"{report.batch}: {report.measurements} measurements,"
            f" {report.streaming_checks} streaming checks"
        )


@probe.command("plan")
@config_path_option
@click.option(
    "--every-days",
    type=click.FloatRange(min=0.01),
    default=7.0,
    show_default=True,
    help="Measure every enabled server at least this often.",
)
@click.option(
    "--budget",
    "budget_s",
    type=click.FloatRange(min=1),
    default=3600.0,
    show_default=True,
    help="Seconds this run may take.",
)
@click.option(
    "--per-server",
    "per_server_s",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="Seconds one server and protocol takes (see docs/benchmarks.md).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the plan as JSON here (for `probe run --plan`).",
)
@click.pass_obj
def probe_plan(
    app: AppContext,
    config_path: Path,
    every_days: float,
    budget_s: float,
    per_server_s: float,
    output: Path | None,
) -> None:
    """Which servers are due: servers with pages first, oldest measurement first, in budget."""
    from site_builder.probe.plan import make_plan

    config = load_config(config_path)
    plan = make_plan(
        app.engine(),
        config.id,
        config.target,
        every_days=every_days,
        budget_s=budget_s,
        per_server_s=per_server_s,
    )
    for s in plan.servers:
        last = s.last_measured.strftime("%Y-%m-%d") if s.last_measured else "never"
        click.echo(
            f"{s.provider}/{s.hostname}: {', '.join(s.protocols)} (last {last}"
            f"{', has a page' if s.has_page else ''})"
        )
    click.echo(
        f"{len(plan.servers)} due in this run, {plan.over_budget} over the budget,"
        f" {plan.not_due} not due, {len(plan.without_target)} without a target"
    )
    if output is not None:
        document = {
            "probe": config.id,
            "servers": [
                {"provider": s.provider, "hostname": s.hostname, "protocols": list(s.protocols)}
                for s in plan.servers
            ],
        }
        output.write_text(json.dumps(document, indent=1) + "\n")


@probe.command("publish")
@config_path_option
@click.option("--destination", required=True, help="s3://bucket/prefix")
@click.pass_obj
def probe_publish(app: AppContext, config_path: Path, destination: str) -> None:
    """Upload the spooled batches, then this probe's listing (docs/probe-batches.md)."""
    from site_builder.exchange.publish import publish_spool
    from site_builder.exchange.settings import ExchangeSettings

    config = load_config(config_path)
    report = publish_spool(
        config.spool,
        destination,
        probe=config.id,
        settings=ExchangeSettings.from_env(app.env.values),
    )
    click.echo(
        f"{destination}: {len(report.published)} batches published,"
        f" {len(report.left_pending)} left pending"
    )
    if not report.ok:
        raise click.ClickException(f"publish failed, the rest stays spooled: {report.error}")


@click.command("speed-server")
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
def speed_server(host: str, port: int) -> None:
    """Serve LibreSpeed's backend protocol (garbage.php, empty.php, getIP.php)."""
    from site_builder.probe.speedserver import make_server

    server = make_server(host, port)
    click.echo(f"speed server on http://{host}:{server.server_address[1]}/ (Ctrl-C stops it)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
