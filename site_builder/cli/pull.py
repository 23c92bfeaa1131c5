"""`site-builder pull`: GPU prices, VPN server lists and VPN measurements into the store."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click

from site_builder.cli.app import AppContext, Group
from site_builder.cli.options import demo_option
from site_builder.cli.present import price_table, server_list_table
from site_builder.cli.runs import run_recorded
from site_builder.demo import SCALES
from site_builder.demo import generate as generate_demo
from site_builder.errors import ConfigError, DataError
from site_builder.exchange.settings import ExchangeSettings
from site_builder.pull.gpu import (
    PROVIDER_DEADLINE_S,
    STAGE_DEADLINE_S,
    PriceReport,
    ProviderResult,
    PullSettings,
    demo_history,
    ecb_url,
    pull_prices,
)
from site_builder.pull.gpu.catalog import load_catalog
from site_builder.pull.gpu.providers import all_adapters, base_urls_from_env
from site_builder.pull.measurements import (
    MeasurementReport,
    parse_probe_keys,
    probe_keys_from_env,
    pull_measurements,
)
from site_builder.pull.measurements.batch import DEFAULT_MAX_AGE
from site_builder.pull.measurements.flags import load_flags
from site_builder.pull.measurements.prepare import DEFAULT_MAX_BATCH_MB
from site_builder.pull.measurements.reference import load_reference
from site_builder.pull.measurements.remote import (
    DEFAULT_FILE_DEADLINE_S,
    DEFAULT_LISTING_DEADLINE_S,
)
from site_builder.pull.servers import ServerListReport, pull_servers
from site_builder.pull.servers.archive import read_inventory
from site_builder.pull.servers.providers import all_adapters as all_server_adapters

MEASUREMENTS_SOURCE_ENV = "SITE_BUILDER_MEASUREMENTS_SOURCE"
SERVER_LIST_BASE_URLS_ENV = "SITE_BUILDER_SERVER_LIST_BASE_URLS"


DEMO_SCALE_ENV = "SITE_BUILDER_DEMO_SCALE"


def run_price_pull(
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
    app.console.print(price_table(report))
    app.console.print(f"  exchange rates: {report.fx_note}", style="dim")
    demo = project.path(paths.demo_gpu_snapshot)
    if snapshot_dir is not None and snapshot_dir.resolve() == demo.resolve():
        step = 7 if app.env.get(DEMO_SCALE_ENV) == "small" else 1
        added = demo_history.backfill(app.engine(), step=step)
        if added:
            app.console.print(f"  demo price history: {added} invented daily points", style="dim")
    return report


def run_server_pull(
    app: AppContext,
    snapshot_dir: Path | None,
    providers: tuple[str, ...],
    accept_shrink: tuple[str, ...] = (),
) -> ServerListReport:
    """Pull the VPN providers' server lists (or replay an archive of them). Fails, after
    storing the others, when a provider's list was quarantined: bad input needs a person."""
    paths = app.project.config.paths
    known = {a.slug for a in all_server_adapters()}
    base_urls = {}
    for item in (app.env.get(SERVER_LIST_BASE_URLS_ENV) or "").replace(",", " ").split():
        slug, _, url = item.partition("=")
        if slug not in known or not url.startswith(("http://", "https://")):
            raise ConfigError(f"{SERVER_LIST_BASE_URLS_ENV}: {item!r} is not PROVIDER=http(s)-URL")
        base_urls[slug] = url
    adapters = all_server_adapters(base_urls)
    unknown = sorted((set(providers) | set(accept_shrink)) - known)
    if unknown:
        raise ConfigError(f"unknown provider {unknown[0]!r}; known: {', '.join(sorted(known))}")
    if providers:
        adapters = [a for a in adapters if a.slug in providers]
    with app.console.status("pulling server lists …"):
        report = pull_servers(
            app.engine(),
            adapters,
            load_reference(app.project.path(paths.vpn_reference)),
            load_flags(app.project.path(paths.vpn_server_flags)),
            snapshot_dir=snapshot_dir,
            archive_root=app.project.path(paths.archive_dir),
            env=app.env.values,
            accept_shrink=frozenset(accept_shrink),
        )
    app.console.print(server_list_table(report))
    for entry in report.unmatched_flags:
        app.console.print(f"  server_flags.toml: {entry} matches no known server", markup=False)
    if report.quarantined:
        reasons = "; ".join(r.reason for r in report.quarantined)
        raise DataError(f"server lists quarantined, their inventories kept: {reasons}")
    return report


def run_measurement_pull(
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
            ensure_demo_batches(app, source, keys_file)
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
        exchange_settings=ExchangeSettings.from_env(app.env.values),
        demo=demo,
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


def ensure_demo_batches(app: AppContext, folder: Path, keys_file: Path) -> None:
    """Generate the demo probe batches on first use (they are not checked in)."""
    if any(folder.glob("*.ndjson")):
        return
    scale = app.env.get(DEMO_SCALE_ENV) or "full"
    if scale not in SCALES:
        raise ConfigError(f"{DEMO_SCALE_ENV} must be one of {', '.join(SCALES)}, not {scale!r}")
    paths = app.project.config.paths
    reference = load_reference(app.project.path(paths.vpn_reference))
    keys = json.loads(keys_file.read_text(encoding="utf-8"))
    inventory = read_inventory(app.project.path(paths.demo_server_lists), reference)
    app.console.print(f"generating the demo probe batches ({scale} scale) in {folder} …")
    files = generate_demo(folder, reference, keys, inventory, scale)
    app.console.print(f"  {len(files)} signed batches written")


@click.group(cls=Group, invoke_without_command=True)
@demo_option
@click.pass_context
def pull(ctx: click.Context, demo: bool) -> None:
    """Bring GPU prices, VPN server lists and VPN measurements into the store.

    Without a subcommand, pulls all three: prices live from every provider whose
    credentials are set (or from the demo snapshot with --demo), the providers' server
    lists (or the demo's archive of them), and measurements from
    $SITE_BUILDER_MEASUREMENTS_SOURCE (or the demo batches with --demo).
    """
    if ctx.invoked_subcommand is None:
        app = ctx.ensure_object(AppContext)
        snapshot = app.project.path(app.project.config.paths.demo_gpu_snapshot) if demo else None
        sites = app.project.select_sites(())
        run_recorded(
            app, "pull prices", "pull", "prices", sites, lambda: run_price_pull(app, snapshot, ())
        )
        lists = app.project.path(app.project.config.paths.demo_server_lists) if demo else None
        run_recorded(
            app, "pull servers", "pull", "servers", sites, lambda: run_server_pull(app, lists, ())
        )
        run_recorded(
            app,
            "pull measurements",
            "pull",
            "measurements",
            sites,
            lambda: run_measurement_pull(app, None, demo),
        )


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
    run_recorded(
        app,
        "pull prices",
        "pull",
        "prices",
        app.project.select_sites(()),
        lambda: run_price_pull(
            app,
            snapshot_dir,
            providers,
            provider_deadline_s=provider_deadline,
            stage_deadline_s=deadline,
        ),
    )


@pull.command("servers")
@click.option(
    "--from-snapshot",
    "snapshot_dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Replay an archive of server lists through the same parse code.",
)
@click.option("--provider", "providers", multiple=True, help="Only this provider (repeatable).")
@click.option(
    "--accept-shrink",
    "accept_shrink",
    multiple=True,
    metavar="PROVIDER",
    help="Store this provider's list even if it shrank by more than half (repeatable).",
)
@demo_option
@click.pass_obj
def pull_servers_command(
    app: AppContext,
    snapshot_dir: Path | None,
    providers: tuple[str, ...],
    accept_shrink: tuple[str, ...],
    demo: bool,
) -> None:
    """Pull the VPN providers' public server lists: fetch (or replay), normalise, store.

    A list that returns HTML, changes shape, names an unknown country or shrinks by more
    than half is quarantined with its reason and the provider's inventory is kept; the
    command then exits 1. Servers absent from their provider's lists for 30 days are
    retired unless flagged static.
    """
    if demo and snapshot_dir is None:
        snapshot_dir = app.project.path(app.project.config.paths.demo_server_lists)
    run_recorded(
        app,
        "pull servers",
        "pull",
        "servers",
        app.project.select_sites(()),
        lambda: run_server_pull(app, snapshot_dir, providers, accept_shrink),
    )


@pull.command("measurements")
@click.option(
    "--source",
    help="A folder of signed .ndjson batches, the http(s) URL of a batch listing, or an"
    " s3://bucket/prefix exchange (endpoint and credentials from the AWS_* variables and"
    " SITE_BUILDER_S3_ENDPOINT_URL).",
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
    help="Seconds allowed for downloading from a listing URL or an s3:// exchange (batches"
    " left wait for the next pull).",
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
    run_recorded(
        app,
        "pull measurements",
        "pull",
        "measurements",
        app.project.select_sites(()),
        lambda: run_measurement_pull(
            app,
            source,
            demo,
            jobs,
            max_batch_mb=max_batch_mb,
            max_age_days=max_age_days,
            deadline_s=deadline_s,
        ),
    )
