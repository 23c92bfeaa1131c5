"""Per-invocation state and the click classes every command uses: configuration and
environment loaded once, and errors turned into one line and exit status 1."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from site_builder.cli.present import InertConsole, printable
from site_builder.config import Environment, Project, load_project
from site_builder.db import connect
from site_builder.db.migrate import current_revision, head_revision, upgrade
from site_builder.errors import SiteBuilderError
from site_builder.pipeline import describe
from site_builder.sites import available_page_kinds


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
