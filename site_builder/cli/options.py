"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path

import click

from site_builder.check.guard import DEFAULT_MAX_PAGE_LOSS
from site_builder.config import DEFAULT_CONFIG_NAME

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


demo_option = click.option(
    "--demo",
    is_flag=True,
    help="Use the bundled demo data: the price snapshot and the demo-signed probe batches.",
)


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
