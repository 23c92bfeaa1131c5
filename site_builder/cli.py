"""Command line: `site-builder` (one command per stage) and `build-site` (the nightly job).

A thin layer: every command parses options, calls the stage's library function and
prints its report. Failures print one line and exit non-zero; --debug shows the traceback.
"""

from __future__ import annotations

import json
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from site_builder import publish
from site_builder.check.guard import DEFAULT_MAX_PAGE_LOSS
from site_builder.check.promote import check_and_promote
from site_builder.config import DEFAULT_CONFIG_NAME, Environment, Project, load_project
from site_builder.db import connect
from site_builder.db.migrate import current_revision, head_revision, upgrade
from site_builder.demo import SCALES
from site_builder.demo import generate as generate_demo
from site_builder.deploy import DeployOptions, deploy_site, list_deploys, rollback
from site_builder.errors import CheckFailed, ConfigError, SiteBuilderError
from site_builder.pipeline import Outcome, RunReport, describe, nightly_steps, run_steps
from site_builder.pull.gpu import (
    PROVIDER_DEADLINE_S,
    STAGE_DEADLINE_S,
    PriceReport,
    ProviderResult,
    PullSettings,
    ecb_url,
    pull_prices,
)
from site_builder.pull.gpu import quarantine as quarantine_store
from site_builder.pull.gpu.catalog import load_catalog
from site_builder.pull.gpu.providers import all_adapters, base_urls_from_env
from site_builder.pull.measurements import (
    MeasurementReport,
    parse_probe_keys,
    probe_keys_from_env,
    pull_measurements,
)
from site_builder.pull.measurements.batch import DEFAULT_MAX_AGE
from site_builder.pull.measurements.prepare import DEFAULT_MAX_BATCH_MB
from site_builder.pull.measurements.reference import load_reference
from site_builder.pull.measurements.remote import (
    DEFAULT_FILE_DEADLINE_S,
    DEFAULT_LISTING_DEADLINE_S,
)
from site_builder.render import BuildReport
from site_builder.render import build_site as build_one_site
from site_builder.serve import make_server
from site_builder.sites import available_page_kinds, data_sources
from site_builder.terminal import InertConsole, printable

MEASUREMENTS_SOURCE_ENV = "SITE_BUILDER_MEASUREMENTS_SOURCE"
DEMO_SCALE_ENV = "SITE_BUILDER_DEMO_SCALE"


@dataclass
class AppContext:
    """Per-invocation state: configuration and environment, loaded once, passed down."""

    config_file: Path
    debug: bool
    env: Environment = field(default_factory=Environment.from_os)
    # Outside text (GPU names, provider messages, batch file names) is printed as it is:
    # never read as markup (a stray "[/bold]" would crash the command), emoji or escapes.
    console: Console = field(default_factory=InertConsole)
    _project: Project | None = None
    _engine: Engine | None = None

    @property
    def project(self) -> Project:
        if self._project is None:
            self._project = load_project(self.config_file, available_page_kinds())
        return self._project

    def engine(self, *, migrate: bool = False) -> Engine:
        if self._engine is None:
            engine = connect(
                self.env.database_url, self.project.path(self.project.config.paths.database_file)
            )
            try:
                if migrate:
                    upgrade(engine)
                else:
                    at, head = current_revision(engine), head_revision()
                    if at != head:
                        raise SiteBuilderError(
                            f"the database schema is at {at or 'nothing'}, this version needs"
                            f" {head}: run `site-builder db upgrade`"
                        )
            except OperationalError as exc:
                raise SiteBuilderError(f"cannot use the database: {exc.orig}") from None
            self._engine = engine
        return self._engine


class _Handled:
    """Mixin: turn errors into a one-line message and exit status 1 (unless --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            app = ctx.find_object(AppContext)
            if (app and app.debug) or ctx.params.get("debug"):
                raise
            click.echo(f"error: {printable(describe(exc))}", err=True)
            ctx.exit(1)


class Group(_Handled, click.Group):
    pass


class Command(_Handled, click.Command):
    pass


Group.command_class = Command
Group.group_class = Group

config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    default=DEFAULT_CONFIG_NAME,
    envvar="SITE_BUILDER_CONFIG",
    show_default=True,
    help="The project configuration file.",
)
debug_option = click.option("--debug", is_flag=True, help="Show tracebacks on failure.")
site_option = click.option(
    "--site",
    "sites",
    multiple=True,
    metavar="NAME",
    help="Work on this site only (repeatable). Default: every configured site.",
)


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


# --------------------------------------------------------------------------- pull


def _price_table(report: PriceReport) -> Table:
    table = Table(title=f"Prices ({report.source} run {report.run_id})")
    numbers = ("seen", "stored", "quarantined", "held", "changed", "ms")
    for column in ("provider", "status", *numbers, "note"):
        table.add_column(column, justify="right" if column in numbers else "left")
    for r in report.results:
        notes = [r.message] if r.message else []
        if r.unknown_gpu_names:
            notes.append(f"unknown GPUs: {', '.join(r.unknown_gpu_names)}")
        if r.confirmed:
            notes.append(f"{r.confirmed} price move(s) confirmed")
        if r.cleared:
            notes.append(f"{r.cleared} held price move(s) dropped: the price came back")
        table.add_row(
            r.provider,
            r.status,
            str(r.seen),
            str(r.stored),
            str(r.quarantined),
            str(r.held),
            str(r.changed),
            str(r.duration_ms),
            "; ".join(notes),
        )
    return table


def _run_price_pull(
    app: AppContext,
    snapshot_dir: Path | None,
    providers: tuple[str, ...],
    *,
    provider_deadline_s: float = PROVIDER_DEADLINE_S,
    stage_deadline_s: float = STAGE_DEADLINE_S,
) -> PriceReport:
    project = app.project
    paths = project.config.paths
    known_slugs = {a.slug for a in all_adapters(project.path(paths.nebius_prices))}
    base_urls = base_urls_from_env(app.env.values, known_slugs | {"ecb"})
    adapters = all_adapters(project.path(paths.nebius_prices), base_urls)
    settings = PullSettings(
        provider_deadline_s=provider_deadline_s,
        stage_deadline_s=stage_deadline_s,
        ecb_url=ecb_url(base_urls.get("ecb")),
    )
    if providers:
        known = {a.slug for a in adapters}
        unknown = sorted(set(providers) - known)
        if unknown:
            raise ConfigError(f"unknown provider {unknown[0]!r}; known: {', '.join(sorted(known))}")
        adapters = [a for a in adapters if a.slug in providers]
    states = {a.slug: "waiting" for a in adapters}
    with app.console.status("pulling prices …") as status:

        def on_fetch(provider: str, event: str) -> None:
            states[provider] = event
            busy = sorted(p for p, e in states.items() if e == "fetching")
            done = sum(e in ("fetched", "failed", "skipped") for e in states.values())
            status.update(
                f"fetching prices: {done}/{len(states)} done"
                + (f"; waiting for {', '.join(busy)}" if busy else "")
            )

        def on_result(result: ProviderResult) -> None:
            status.update(f"storing prices: {result.provider} {result.status}")

        report = pull_prices(
            app.engine(),
            adapters,
            load_catalog(project.path(paths.gpu_catalog)),
            snapshot_dir=snapshot_dir,
            archive_root=project.path(paths.archive_dir),
            env=app.env.values,
            settings=settings,
            on_result=on_result,
            on_fetch=on_fetch,
        )
    app.console.print(_price_table(report))
    app.console.print(f"  exchange rates: {report.fx_note}", style="dim")
    return report


def _run_measurement_pull(
    app: AppContext,
    source: str | Path | None,
    demo: bool,
    jobs: int | None = None,
    *,
    max_batch_mb: float = DEFAULT_MAX_BATCH_MB,
    max_age_days: int = DEFAULT_MAX_AGE.days,
    deadline_s: float = DEFAULT_LISTING_DEADLINE_S,
) -> MeasurementReport | None:
    project = app.project
    paths = project.config.paths
    if demo:
        keys_file = project.path(paths.demo_probe_keys)
        keys = parse_probe_keys(keys_file.read_text(encoding="utf-8"), str(keys_file))
        if source is None:
            source = project.path(paths.demo_measurements)
            _ensure_demo_batches(app, source, keys_file)
    else:
        configured = app.env.get(MEASUREMENTS_SOURCE_ENV)
        source = source or configured
        keys = probe_keys_from_env(app.env.values)
    if source is None:
        app.console.print(
            f"measurements: no source given (--source or {MEASUREMENTS_SOURCE_ENV}): skipped"
        )
        return None
    report = pull_measurements(
        app.engine(),
        source,
        keys=keys,
        reference_file=project.path(paths.vpn_reference),
        rejects_dir=None if demo else project.path(paths.rejects_dir),
        flags_file=project.path(paths.vpn_server_flags),
        status_as_of_data=demo,
        jobs=jobs,
        max_batch_mb=max_batch_mb,
        # the demo's batches have fixed dates: only the year-2000 floor applies to them
        max_age=None if demo else timedelta(days=max_age_days),
        deadline_s=deadline_s,
        file_deadline_s=min(deadline_s, DEFAULT_FILE_DEADLINE_S),
    )
    failed = f", {report.count('failed')} failed" if report.count("failed") else ""
    app.console.print(
        f"measurements from {source}: {report.count('ingested')} batches ingested"
        f" ({report.records:,} records), {report.count('duplicate')} already taken,"
        f" {report.count('rejected')} rejected{failed};"
        f" {report.new_records:,} records new to the store",
        markup=False,
    )
    if report.status_changes.get("retired") or report.status_changes.get("revived"):
        app.console.print(
            f"  servers retired after 30 silent days: {report.status_changes['retired']},"
            f" back from retirement: {report.status_changes['revived']}"
        )
    for entry in report.unmatched_flags:
        app.console.print(f"  server_flags.toml: {entry} matches no known server", markup=False)
    for result in report.results:
        if result.status in ("rejected", "failed"):
            app.console.print(f"  {result.status} {result.message}", markup=False, highlight=False)
        elif result.status == "ingested" and result.new_records < result.records:
            app.console.print(f"  {result.name}: {result.describe()}", markup=False)
    return report


def _ensure_demo_batches(app: AppContext, folder: Path, keys_file: Path) -> None:
    """Generate the demo probe batches on first use (they are not checked in)."""
    if any(folder.glob("*.ndjson")):
        return
    scale = app.env.get(DEMO_SCALE_ENV) or "full"
    if scale not in SCALES:
        raise ConfigError(f"{DEMO_SCALE_ENV} must be one of {', '.join(SCALES)}, not {scale!r}")
    paths = app.project.config.paths
    reference = load_reference(app.project.path(paths.vpn_reference))
    keys = json.loads(keys_file.read_text(encoding="utf-8"))
    app.console.print(f"generating the demo probe batches ({scale} scale) in {folder} …")
    files = generate_demo(folder, reference, keys, scale)
    app.console.print(f"  {len(files)} signed batches written")


demo_option = click.option(
    "--demo",
    is_flag=True,
    help="Use the bundled demo data: the price snapshot and the demo-signed probe batches.",
)


@main.group(cls=Group, invoke_without_command=True)
@demo_option
@click.pass_context
def pull(ctx: click.Context, demo: bool) -> None:
    """Bring GPU prices and VPN measurements into the store.

    Without a subcommand, pulls both: prices live from every provider whose
    credentials are set (or from the demo snapshot with --demo), and measurements
    from $SITE_BUILDER_MEASUREMENTS_SOURCE (or the demo batches with --demo).
    """
    if ctx.invoked_subcommand is None:
        app = ctx.ensure_object(AppContext)
        snapshot = app.project.path(app.project.config.paths.demo_gpu_snapshot) if demo else None
        _run_price_pull(app, snapshot, ())
        _run_measurement_pull(app, None, demo)


@pull.command("prices")
@click.option(
    "--from-snapshot",
    "snapshot_dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Replay an archive of raw responses through the same parse code.",
)
@click.option("--provider", "providers", multiple=True, help="Only this provider (repeatable).")
@click.option(
    "--provider-deadline",
    type=click.FloatRange(min=0, min_open=True),
    default=PROVIDER_DEADLINE_S,
    show_default=True,
    metavar="SECONDS",
    help="Give up on a provider with no complete answer after this long (all its requests,"
    " retries and waits); it fails and its last prices stay.",
)
@click.option(
    "--deadline",
    type=click.FloatRange(min=0, min_open=True),
    default=STAGE_DEADLINE_S,
    show_default=True,
    metavar="SECONDS",
    help="Give up on every provider still fetching after this long; what arrived is stored.",
)
@click.pass_obj
def pull_prices_command(
    app: AppContext,
    snapshot_dir: Path | None,
    providers: tuple[str, ...],
    provider_deadline: float,
    deadline: float,
) -> None:
    """Pull GPU cloud prices: fetch (or replay), validate, normalize, store.

    Each provider is stored as its answer arrives; a provider past its deadline fails
    and keeps its last good prices, and the others go on.
    """
    _run_price_pull(
        app,
        snapshot_dir,
        providers,
        provider_deadline_s=provider_deadline,
        stage_deadline_s=deadline,
    )


@pull.command("measurements")
@click.option(
    "--source", help="A folder of signed .ndjson batches, or the http(s) URL of a batch listing."
)
@demo_option
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Verify and validate batches on this many processes (default: one per core).",
)
@click.option(
    "--max-batch-mb",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_MAX_BATCH_MB,
    show_default=True,
    help="Refuse (move to rejects) any batch file larger than this.",
)
@click.option(
    "--max-age-days",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_AGE.days,
    show_default=True,
    help="Refuse batches holding a timestamp older than this many days.",
)
@click.option(
    "--deadline",
    "deadline_s",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_LISTING_DEADLINE_S,
    show_default=True,
    help="Seconds allowed for downloading from a listing URL (batches left wait for next pull).",
)
@click.pass_obj
def pull_measurements_command(
    app: AppContext,
    source: str | None,
    demo: bool,
    jobs: int | None,
    max_batch_mb: float,
    max_age_days: int,
    deadline_s: float,
) -> None:
    """Ingest signed VPN probe batches: verify, validate, insert (idempotent)."""
    _run_measurement_pull(
        app,
        source,
        demo,
        jobs,
        max_batch_mb=max_batch_mb,
        max_age_days=max_age_days,
        deadline_s=deadline_s,
    )


# --------------------------------------------------------------------------- build / check


def _build_table(reports: list[BuildReport]) -> Table:
    table = Table(title="Build")
    numbers = ("pages", "rendered", "skipped", "written", "removed", "seconds")
    for column in ("site", *numbers, "by kind"):
        table.add_column(column, justify="right" if column in numbers else "left")
    for r in reports:
        kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(r.pages_by_kind.items()))
        table.add_row(
            r.site,
            f"{r.pages:,}",
            f"{r.rendered:,}",
            f"{r.skipped:,}",
            f"{r.written:,}",
            f"{len(r.removed):,}",
            f"{r.seconds:.2f}",
            kinds,
        )
    return table


def _run_build(
    app: AppContext, sites: tuple[str, ...], jobs: int | None = None
) -> list[BuildReport]:
    key = app.env.get("INDEXNOW_KEY")
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
    app.console.print(_build_table(reports))
    return reports


def _run_check(
    app: AppContext,
    sites: tuple[str, ...],
    *,
    force: bool = False,
    max_page_loss: float = DEFAULT_MAX_PAGE_LOSS,
) -> None:
    failures = []
    project = app.project
    for name in project.select_sites(sites):
        site_trees = publish.trees(project, name)
        newest, _ = publish.newest_build(site_trees)
        built = (newest / "index.html").is_file() or site_trees.journal.exists()
        if not built:  # said before the store is opened
            raise CheckFailed(
                f"{name}: {newest} holds no built site; run `site-builder build` first"
            )
        outcome = check_and_promote(
            app.engine(),
            project,
            app.env.values,
            name,
            force=force,
            max_page_loss=max_page_loss,
        )
        if outcome.note:  # a promotion a crash cut short, finished first
            app.console.print(f"  {outcome.note}", markup=False)
        report = outcome.report
        for check_name, problems in report.problems.items():
            for problem in problems[:10]:
                app.console.print(f"  {name} [{check_name}]: {problem}", markup=False)
            if len(problems) > 10:
                app.console.print(
                    f"  {name} [{check_name}]: … and {len(problems) - 10} more", markup=False
                )
        if report.failed:
            failures.append(f"{name}: {', '.join(report.failed)} failed")
            if outcome.checked != project.output_dir(name):
                app.console.print(
                    f"  {name}: the new build stays in {outcome.checked}; the live"
                    f" {project.output_dir(name)} is unchanged",
                    markup=False,
                )
            continue
        app.console.print(
            f"check {name}: every internal link resolves; sitemaps, secrets, drafts,"
            " _headers, _redirects and page count are fine"
        )
        live = project.output_dir(name)
        if outcome.promoted:
            app.console.print(f"  {name}: the new build is now live in {live}", markup=False)
        elif outcome.sealed:
            app.console.print(
                f"  {name}: checked the live build in {live} (no newer build to publish)",
                markup=False,
            )
        else:
            failures.append(
                f"{name}: {live} was not sealed by a passing check (or changed since):"
                " run `site-builder build`, then check again"
            )
    if failures:
        raise CheckFailed("; ".join(failures) + " (nothing was deployed)")


force_option = click.option(
    "--force", is_flag=True, help="Publish even if many pages of the last deploy would disappear."
)
max_loss_option = click.option(
    "--max-page-loss",
    type=click.FloatRange(0, 1),
    default=DEFAULT_MAX_PAGE_LOSS,
    show_default=True,
    help="Largest share of the last deploy's pages a build may lose.",
)


jobs_option = click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Work on this many processes (default: one per core).",
)


@main.command()
@site_option
@jobs_option
@click.pass_obj
def build(app: AppContext, sites: tuple[str, ...], jobs: int | None) -> None:
    """Render the sites from the store into staging folders beside the live ones.

    Pages whose inputs did not change since the live build are not rendered; only files
    whose bytes changed are written; files no longer produced are left out. The live
    output changes only when `site-builder check` passes the new build.
    """
    for report in _run_build(app, sites, jobs):
        if report.staged:
            app.console.print(
                f"{report.site}: built in {report.output}; `site-builder check` checks it"
                " and makes it live",
                markup=False,
            )


@main.command()
@site_option
@force_option
@max_loss_option
@click.pass_obj
def check(app: AppContext, sites: tuple[str, ...], force: bool, max_page_loss: float) -> None:
    """Check the newest build and, if it passes, make it the live output.

    Checks the build a `site-builder build` left in staging (or the live output when there
    is none), then seals it and swaps it in. Internal links and assets resolve; sitemaps
    parse, keep the limits and list exactly the indexable pages; no secret, local path or
    draft is published; _headers and _redirects parse; and the build has not lost too many
    of the last deploy's pages.
    """
    _run_check(app, sites, force=force, max_page_loss=max_page_loss)


# --------------------------------------------------------------------------- deploy / serve / db


def _run_deploy(app: AppContext, sites: tuple[str, ...], options: DeployOptions) -> None:
    for name in app.project.select_sites(sites):
        if not app.env.netlify_auth_token:  # checked first: no store needed to do nothing
            app.console.print(f"deploy {name}: NETLIFY_AUTH_TOKEN is not set: nothing deployed")
            continue
        with Progress(console=app.console, transient=True) as progress:
            options.progress = _progress_reporter(progress, name)
            result = deploy_site(app.engine(), app.project, app.env, name, options)
        if result.deployed:
            app.console.print(
                f"deploy {name}: {result.files:,} files, {result.uploaded_files:,} uploaded"
                f" ({result.uploaded_bytes:,} bytes), {result.uploaded_functions} functions"
            )
        app.console.print(f"deploy {name}: {result.message}", markup=False)
        if result.indexnow:
            failures = result.indexnow.failures
            failed = f", failed: {'; '.join(failures)}" if failures else ""
            app.console.print(
                f"indexnow {name}: {result.indexnow.urls} changed URLs submitted{failed}"
            )


def _progress_reporter(progress: Progress, name: str) -> Callable[[str, int, int], None]:
    tasks: dict[str, TaskID] = {}

    def report(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = progress.add_task(f"{name}: {phase}", total=total or 1)
        progress.update(tasks[phase], completed=done, total=total or 1)

    return report


def _deploy_options(draft: bool, concurrency: int, indexnow: bool) -> DeployOptions:
    return DeployOptions(draft=draft, concurrency=concurrency, indexnow=indexnow)


draft_option = click.option(
    "--draft", is_flag=True, help="A preview deploy with its own URL; not published."
)
concurrency_option = click.option(
    "--concurrency",
    default=8,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Parallel uploads.",
)
indexnow_option = click.option(
    "--indexnow",
    is_flag=True,
    help="After a production deploy, submit the changed URLs to IndexNow (needs INDEXNOW_KEY).",
)


@main.group(cls=Group, invoke_without_command=True)
@site_option
@draft_option
@concurrency_option
@indexnow_option
@click.pass_context
def deploy(
    ctx: click.Context, sites: tuple[str, ...], draft: bool, concurrency: int, indexnow: bool
) -> None:
    """Deploy the built sites to Netlify by digest: only files Netlify lacks are uploaded.

    Needs NETLIFY_AUTH_TOKEN and each site's id (NETLIFY_SITE_ID_<SITE>). Without the
    token it deploys nothing and says so. Deploys only the live output a passing
    `site-builder check` sealed, unchanged since; refuses while a newer build awaits check.
    """
    if ctx.invoked_subcommand is None:
        app = ctx.ensure_object(AppContext)
        _run_deploy(app, sites, _deploy_options(draft, concurrency, indexnow))


@deploy.command("list")
@click.option(
    "--site", "site", required=True, metavar="NAME", help="The site whose deploys to list."
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100))
@click.pass_obj
def deploy_list(app: AppContext, site: str, limit: int) -> None:
    """List a site's recent Netlify deploys: id, state, whether published, when, title."""
    app.project.select_sites((site,))
    table = Table(title=f"Deploys of {site}")
    for column in ("id", "state", "context", "published", "created", "title"):
        table.add_column(column)
    for d in list_deploys(app.project, app.env, site, limit):
        table.add_row(
            str(d.get("id")),
            str(d.get("state")),
            str(d.get("context") or ""),
            "yes" if d.get("published_at") else "",
            str(d.get("created_at") or ""),
            str(d.get("title") or ""),
        )
    app.console.print(table)


@deploy.command("rollback")
@click.option("--site", "site", required=True, metavar="NAME", help="The site to roll back.")
@click.option("--to", "deploy_id", help="Publish this deploy id instead of the previous one.")
@click.pass_obj
def deploy_rollback(app: AppContext, site: str, deploy_id: str | None) -> None:
    """Restore the previously published deploy of a site (or the one given with --to)."""
    app.project.select_sites((site,))
    app.console.print(rollback(app.project, app.env, site, deploy_id), markup=False)


@main.command()
@click.option(
    "--site",
    "site",
    required=False,
    metavar="NAME",
    help="The site to preview (default: the first).",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.pass_obj
def serve(app: AppContext, site: str | None, port: int) -> None:
    """Preview the newest complete build of a site on http://127.0.0.1:PORT/ (Ctrl-C to stop).

    That is the build waiting for its check, if there is one, else the live output.
    """
    name = app.project.select_sites((site,) if site else ())[0]
    site_trees = publish.trees(app.project, name)
    publish.recover_if_idle(site_trees)
    directory, which = publish.newest_build(site_trees)
    if not directory.is_dir():
        raise SiteBuilderError(f"{directory} does not exist: run `site-builder build` first")
    try:
        server = make_server(directory, port)
    except OSError as exc:
        raise SiteBuilderError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    app.console.print(
        f"serving {name} ({which}) from {directory} on http://127.0.0.1:{port}/", markup=False
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.group(cls=Group)
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


@main.group(cls=Group)
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


@main.command("dns-leak-server")
@click.option("--zone", required=True, help="The delegated zone, e.g. leak.example.com.")
@click.option(
    "--ns",
    "nameservers",
    multiple=True,
    required=True,
    help="This server's NS name(s) for the zone apex, e.g. ns1.leak.example.com.",
)
@click.option("--answer-ipv4", help="Address that A queries for test names get.")
@click.option("--answer-ipv6", help="Address that AAAA queries for test names get.")
@click.option("--dns-bind", default="0.0.0.0", show_default=True, help="DNS listen address.")
@click.option("--dns-port", default=53, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--http-bind",
    default="127.0.0.1",
    show_default=True,
    help="Results API listen address (put a TLS proxy in front of it).",
)
@click.option("--http-port", default=8053, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--ttl",
    "ttl_s",
    default=300,
    show_default=True,
    type=click.IntRange(10, 3600),
    help="Seconds a test's records are kept.",
)
@click.option("--max-tests", default=100_000, show_default=True, type=click.IntRange(1))
@click.option(
    "--country-db",
    type=click.Path(path_type=Path, dir_okay=False),
    help="IP range CSV (first_ip,last_ip,country), e.g. db-ip's country lite file.",
)
@click.option(
    "--http-max-connections",
    default=32,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Results API connections served at once (a thread each); more get a 503.",
)
@click.option(
    "--http-idle-timeout",
    "http_idle_timeout_s",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.1, 300),
    help="Seconds a results API connection may stay silent before it is closed.",
)
@click.option(
    "--http-request-timeout",
    "http_request_timeout_s",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1, 600),
    help="Seconds a client has to send its whole request to the results API.",
)
@click.pass_obj
def dns_leak_server(
    app: AppContext,
    zone: str,
    nameservers: tuple[str, ...],
    answer_ipv4: str | None,
    answer_ipv6: str | None,
    dns_bind: str,
    dns_port: int,
    http_bind: str,
    http_port: int,
    ttl_s: int,
    max_tests: int,
    country_db: Path | None,
    http_max_connections: int,
    http_idle_timeout_s: float,
    http_request_timeout_s: float,
) -> None:
    """Run the DNS leak test's authoritative nameserver and its results API.

    Answers A/AAAA for random names under --zone with TTL 0 (UDP and TCP), records which
    resolver asked for which test id, and serves GET /results/<id> to callers holding
    the shared secret in $DNS_LEAK_RESULTS_SECRET. See docs/tools.md.
    """
    from site_builder.dnsleak.geo import CountryLookup
    from site_builder.dnsleak.server import NameServer
    from site_builder.dnsleak.store import LeakStore
    from site_builder.dnsleak.zone import ZoneConfig

    secret = app.env.get("DNS_LEAK_RESULTS_SECRET")
    if not secret or len(secret) < 16:
        raise ConfigError("set DNS_LEAK_RESULTS_SECRET (16 characters or more) to run the server")
    if not (answer_ipv4 or answer_ipv6):
        raise ConfigError("give --answer-ipv4 and/or --answer-ipv6")
    config = ZoneConfig(
        zone=zone.rstrip("."),
        nameservers=nameservers,
        answer_ipv4=answer_ipv4,
        answer_ipv6=answer_ipv6,
    )
    try:
        server = NameServer(
            config,
            secret=secret,
            store=LeakStore(ttl_s=ttl_s, max_tests=max_tests),
            countries=CountryLookup.from_csv(country_db) if country_db else None,
            dns_address=(dns_bind, dns_port),
            http_address=(http_bind, http_port),
            http_max_connections=http_max_connections,
            http_idle_timeout_s=http_idle_timeout_s,
            http_request_timeout_s=http_request_timeout_s,
        )
    except OSError as exc:
        raise SiteBuilderError(
            f"cannot listen: {exc.strerror} (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
        ) from None
    server.start()
    app.console.print(
        f"dns-leak-server: zone {config.zone}, DNS on {dns_bind}:{server.dns_port} (UDP+TCP),"
        f" results on http://{http_bind}:{server.http_port}/results/<id>"
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


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
@click.pass_obj
def db_maintain(app: AppContext, keep_days: int, keep_manifests: int) -> None:
    """Purge raw VPN time series older than --keep-days (rollups are kept), and the file
    manifests of older deploys (their figures are kept)."""
    from site_builder.db.maintain import prune_manifests, purge_raw

    engine = app.engine()
    removed = purge_raw(engine, keep_days)
    for table, count in removed.items():
        app.console.print(f"{table}: {count:,} rows older than {keep_days} days removed")
    emptied = prune_manifests(engine, keep_manifests)
    app.console.print(
        f"site_deploys: {emptied:,} manifests emptied (the {keep_manifests} newest per site kept)"
    )


# --------------------------------------------------------------------------- build-site


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
    pulls: dict[str, Callable[[], object]] = {
        "prices": lambda: _run_price_pull(app, snapshot, ()),
        "measurements": lambda: _run_measurement_pull(app, None, demo, jobs),
    }
    steps = nightly_steps(
        chosen,
        sources_of=data_sources,
        pull=None if skip_pull else lambda source: pulls[source](),
        build=None if skip_build else lambda site: _run_build(app, (site,), jobs),
        check=None if skip_check else lambda site: _run_check(app, (site,), force=force),
        deploy=None
        if skip_deploy
        else lambda site: _run_deploy(app, (site,), _deploy_options(draft, 8, indexnow)),
    )
    report = run_steps(
        steps,
        on_start=lambda step: app.console.rule(step.key),
        on_outcome=lambda outcome: _show_outcome(app, outcome),
    )
    app.console.print(_run_table(report))
    if report.exit_code:
        click.echo(f"error: {printable(report.summary())}", err=True)
        ctx.exit(report.exit_code)


def _show_outcome(app: AppContext, outcome: Outcome) -> None:
    if outcome.status != "failed":  # a step not run is in the run table, with its reason
        return
    if outcome.error is not None and app.debug:
        app.console.print("".join(traceback.format_exception(outcome.error)), style="red")
    click.echo(f"error: {outcome.step.key}: {printable(outcome.message)}", err=True)


def _run_table(report: RunReport) -> Table:
    table = Table(title="Nightly run")
    for column in ("stage", "target", "status", "seconds", "note"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for outcome in report.outcomes:
        table.add_row(
            outcome.step.stage,
            outcome.step.target,
            outcome.status,
            f"{outcome.seconds:.1f}" if outcome.status != "not run" else "",
            outcome.message,
            style=None if outcome.status == "ok" else "red",
        )
    return table


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
