"""`site-builder deploy` (and `deploy list`, `deploy rollback`): Netlify digest deploys."""

from __future__ import annotations

import click
from rich.progress import Progress
from rich.table import Table

from site_builder.cli.app import AppContext, Group
from site_builder.cli.options import concurrency_option, draft_option, indexnow_option, site_option
from site_builder.cli.present import progress_reporter
from site_builder.cli.runs import run_recorded
from site_builder.deploy import DeployOptions, DeployResult, deploy_site, list_deploys, rollback


def run_deploy(
    app: AppContext, sites: tuple[str, ...], options: DeployOptions
) -> list[DeployResult]:
    results = []
    for name in app.project.select_sites(sites):
        if not app.env.netlify_auth_token:  # checked first: no store needed to do nothing
            app.console.print(f"deploy {name}: NETLIFY_AUTH_TOKEN is not set: nothing deployed")
            continue
        with Progress(console=app.console, transient=True) as progress:
            options.progress = progress_reporter(progress, name)
            result = deploy_site(app.engine(), app.project, app.env, name, options)
        results.append(result)
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
    return results


def deploy_options(draft: bool, concurrency: int, indexnow: bool) -> DeployOptions:
    return DeployOptions(draft=draft, concurrency=concurrency, indexnow=indexnow)


@click.group(cls=Group, invoke_without_command=True)
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
        chosen = app.project.select_sites(sites)
        if not app.env.netlify_auth_token:  # nothing happens: no store opened, no run recorded
            run_deploy(app, sites, deploy_options(draft, concurrency, indexnow))
            return
        run_recorded(
            app,
            "deploy",
            "deploy",
            ",".join(chosen),
            chosen,
            lambda: run_deploy(app, sites, deploy_options(draft, concurrency, indexnow)),
        )


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
