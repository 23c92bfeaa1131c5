"""`site-builder serve`: preview a built site as the CDN serves it."""

from __future__ import annotations

import click

from site_builder import publish
from site_builder.cli.app import AppContext, Command
from site_builder.errors import SiteBuilderError
from site_builder.serve import make_server


@click.command(cls=Command)
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
