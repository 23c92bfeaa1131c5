"""`site-builder check`: the pre-deploy checks, and promotion of a passing build."""

from __future__ import annotations

import click

from site_builder import publish
from site_builder.check.guard import DEFAULT_MAX_PAGE_LOSS
from site_builder.check.promote import check_and_promote
from site_builder.cli.app import AppContext, Command
from site_builder.cli.options import force_option, max_loss_option, site_option
from site_builder.cli.runs import run_recorded
from site_builder.errors import CheckFailed


def run_check(
    app: AppContext,
    sites: tuple[str, ...],
    *,
    force: bool = False,
    max_page_loss: float = DEFAULT_MAX_PAGE_LOSS,
    outcomes: list[object] | None = None,
) -> None:
    """Check each site and promote its passing build; each site's outcome is appended to
    `outcomes` (for the run history) before a failure is raised."""
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
        if outcomes is not None:
            outcomes.append(outcome)
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
            " _headers, _redirects, unique titles and page count are fine"
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


@click.command(cls=Command)
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
    outcomes: list[object] = []
    run_recorded(
        app,
        "check",
        "check",
        _target(app, sites),
        app.project.select_sites(sites),
        lambda: run_check(app, sites, force=force, max_page_loss=max_page_loss, outcomes=outcomes),
        outcomes,
    )


def _target(app: AppContext, sites: tuple[str, ...]) -> str:
    return ",".join(app.project.select_sites(sites))
