"""`site-builder build` (render the sites) and `build-site` (the nightly job; its order and
failure rules are in `site_builder.pipeline`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from rich.progress import Progress

from site_builder.cli.app import AppContext, Command
from site_builder.cli.check import run_check
from site_builder.cli.deploy import deploy_options, run_deploy
from site_builder.cli.options import (
    config_option,
    debug_option,
    demo_option,
    draft_option,
    force_option,
    indexnow_option,
    jobs_option,
    site_option,
)
from site_builder.cli.present import build_table, printable, run_table, show_outcome
from site_builder.cli.pull import run_measurement_pull, run_price_pull, run_server_pull
from site_builder.cli.runs import (
    finish_recording,
    record_outcome,
    refresh_freshness,
    run_recorded,
    start_recording,
)
from site_builder.pipeline import Outcome, nightly_steps, run_steps
from site_builder.render import BuildReport
from site_builder.render import build_site as build_one_site
from site_builder.sites import data_sources


def run_build(
    app: AppContext, sites: tuple[str, ...], jobs: int | None = None
) -> list[BuildReport]:
    key = app.env.get("INDEXNOW_KEY")
    refresh_freshness(app)  # what the sites' status pages show
    reports = []
    with Progress(console=app.console, transient=True) as progress:
        for name in app.project.select_sites(sites):
            task = progress.add_task(f"building {name}", total=None)
            reports.append(
                build_one_site(
                    app.engine(),
                    app.project,
                    name,
                    indexnow_key=key,
                    jobs=jobs,
                    on_progress=lambda n, task=task: progress.advance(task, n),
                )
            )
            progress.remove_task(task)
    app.console.print(build_table(reports))
    for report in reports:  # built all the same, without what the problem left out
        for problem in report.problems:
            app.console.print(f"warning: {report.site}: {printable(problem)}", markup=False)
    return reports


@click.command(cls=Command)
@site_option
@jobs_option
@click.pass_obj
def build(app: AppContext, sites: tuple[str, ...], jobs: int | None) -> None:
    """Render the sites from the store into staging folders beside the live ones.

    Pages whose inputs did not change since the live build are not rendered; only files
    whose bytes changed are written; files no longer produced are left out. The live
    output changes only when `site-builder check` passes the new build.
    """
    chosen = app.project.select_sites(sites)
    reports = run_recorded(
        app, "build", "build", ",".join(chosen), chosen, lambda: run_build(app, sites, jobs)
    )
    for report in reports:
        if report.staged:
            app.console.print(
                f"{report.site}: built in {report.output}; `site-builder check` checks it"
                " and makes it live",
                markup=False,
            )


@click.command(cls=Command)
@config_option
@site_option
@demo_option
@click.option("--skip-pull", is_flag=True, help="Do not pull; build from what the store holds.")
@click.option(
    "--skip-build", is_flag=True, help="Do not build; check and deploy the existing output."
)
@click.option("--skip-check", is_flag=True, help="Do not check the output (not recommended).")
@click.option("--skip-deploy", is_flag=True, help="Do not deploy.")
@force_option
@draft_option
@indexnow_option
@jobs_option
@debug_option
@click.pass_context
def build_site(
    ctx: click.Context,
    config_file: Path,
    sites: tuple[str, ...],
    demo: bool,
    skip_pull: bool,
    skip_build: bool,
    skip_check: bool,
    skip_deploy: bool,
    force: bool,
    draft: bool,
    indexnow: bool,
    jobs: int | None,
    debug: bool,
) -> None:
    """The nightly job: pull, then per site build -> check -> deploy.

    Migrates the database first. A failed pull of one data source does not stop the sites:
    each builds from what the store holds. One site's failure never stops another site;
    within a site, a failed stage stops its later stages (a failed check is never
    deployed). Exits non-zero if any step failed. With --demo it pulls the bundled demo data
    instead of the live providers, so it runs on a fresh machine with no keys at all.
    """
    app = AppContext(config_file=config_file, debug=debug)
    ctx.obj = app
    chosen = app.project.select_sites(sites)  # fail on an unknown --site before any work
    app.engine(migrate=True)
    for stage, skipped in (
        ("pull", skip_pull),
        ("build", skip_build),
        ("check", skip_check),
        ("deploy", skip_deploy),
    ):
        if skipped:
            app.console.print(f"{stage}: skipped", style="dim")
    snapshot = app.project.path(app.project.config.paths.demo_gpu_snapshot) if demo else None
    lists = app.project.path(app.project.config.paths.demo_server_lists) if demo else None
    pulls: dict[str, Callable[[], object]] = {
        "prices": lambda: run_price_pull(app, snapshot, ()),
        "servers": lambda: run_server_pull(app, lists, ()),
        "measurements": lambda: run_measurement_pull(app, None, demo, jobs),
    }
    checked: dict[str, list[object]] = {site: [] for site in chosen}  # for the run history
    steps = nightly_steps(
        chosen,
        sources_of=data_sources,
        pull=None if skip_pull else lambda source: pulls[source](),
        build=None if skip_build else lambda site: run_build(app, (site,), jobs),
        check=None
        if skip_check
        else lambda site: run_check(app, (site,), force=force, outcomes=checked[site]),
        deploy=None
        if skip_deploy
        else lambda site: run_deploy(app, (site,), deploy_options(draft, 8, indexnow)),
    )
    recorder = start_recording(app, "build-site", chosen)

    def on_outcome(outcome: Outcome) -> None:
        show_outcome(app, outcome)
        step = outcome.step
        record_outcome(recorder, outcome, checked[step.target] if step.stage == "check" else None)

    report = run_steps(
        steps, on_start=lambda step: app.console.rule(step.key), on_outcome=on_outcome
    )
    app.console.print(run_table(report))
    finish_recording(app, recorder, bool(report.exit_code), report.summary())
    if report.exit_code:
        click.echo(f"error: {printable(report.summary())}", err=True)
        ctx.exit(report.exit_code)
