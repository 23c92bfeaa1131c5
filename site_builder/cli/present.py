"""Terminal presentation: the rich tables and progress of every command, and the console
that prints text from outside inert.

Outside text (provider responses, batch files, editors' files) reaches the terminal in
tables, notes and error lines. Two things in it must stay inert: rich markup and emoji
codes (a GPU name containing ``[/bold]`` once crashed every nightly after the data was
stored), and terminal control sequences (an escape sequence in a provider's error message
could clear the screen, move the cursor or retitle the window, and so hide or fake the
report). Control characters are shown as visible escapes instead.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table
from rich.text import Text

from site_builder.pipeline import Outcome, RunReport
from site_builder.pull.gpu import PriceReport
from site_builder.pull.servers import ServerListReport
from site_builder.render import BuildReport

if TYPE_CHECKING:  # the app imports this module for its console
    from site_builder.cli.app import AppContext
    from site_builder.ops.status import StatusReport

# C0 controls except tab and newline, DEL, and C1 controls (ESC's 8-bit forms among them).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with every terminal control character written as a visible escape (``\\x1b``)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class InertConsole(Console):
    """A rich console for which every string is plain text: no markup, no emoji codes,
    no control characters. Styling is given explicitly (``style=``), never in the text."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**{"highlight": False, **options, "markup": False, "emoji": False})

    def render_str(self, text: str, **options: Any) -> Text:
        options["markup"] = False  # even where a caller asks for it: the text may be outside
        options["emoji"] = False
        return super().render_str(printable(text), **options)


def price_table(report: PriceReport) -> Table:
    table = Table(title=f"Prices ({report.source} run {report.run_id})")
    numbers = ("seen", "stored", "quarantined", "held", "changed", "ms")
    for column in ("provider", "status", *numbers, "note"):
        table.add_column(column, justify="right" if column in numbers else "left")
    for r in report.results:
        notes = [r.message] if r.message else []
        if r.unknown_gpu_names:
            notes.append(f"unknown GPUs: {', '.join(r.unknown_gpu_names)}")
        if r.on_request:
            notes.append(f"{r.on_request} offer(s) at a price on request")
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


def server_list_table(report: ServerListReport) -> Table:
    table = Table(title=f"Server lists ({report.source} run {report.run_id})")
    numbers = ("servers", "new", "retired")
    for column in ("provider", "status", *numbers, "note"):
        table.add_column(column, justify="right" if column in numbers else "left")
    for r in report.results:
        notes = [r.reason] if r.reason else []
        if r.not_geocoded:
            notes.append(f"cities without coordinates: {', '.join(r.not_geocoded)}")
        table.add_row(
            r.provider,
            r.status,
            str(r.servers),
            str(r.new_servers),
            str(r.retired),
            "; ".join(notes),
        )
    return table


def build_table(reports: list[BuildReport]) -> Table:
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


def progress_reporter(progress: Progress, name: str) -> Callable[[str, int, int], None]:
    tasks: dict[str, TaskID] = {}

    def report(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = progress.add_task(f"{name}: {phase}", total=total or 1)
        progress.update(tasks[phase], completed=done, total=total or 1)

    return report


def run_table(report: RunReport) -> Table:
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


def show_outcome(app: AppContext, outcome: Outcome) -> None:
    if outcome.status != "failed":  # a step not run is in the run table, with its reason
        return
    if outcome.error is not None and app.debug:
        app.console.print("".join(traceback.format_exception(outcome.error)), style="red")
    click.echo(f"error: {outcome.step.key}: {printable(outcome.message)}", err=True)


def status_tables(report: StatusReport) -> list[Table]:
    """`site-builder status`: runs, freshness, quarantine and breakers."""
    runs = Table(title="Last runs")
    for column in ("id", "command", "started (UTC)", "seconds", "outcome", "failed steps"):
        runs.add_column(column, justify="right" if column in ("id", "seconds") else "left")
    for run in report.runs:
        started = run["started_at"] or ""
        seconds = ""
        if run["started_at"] and run["finished_at"]:
            span = datetime.fromisoformat(run["finished_at"]) - datetime.fromisoformat(started)
            seconds = f"{span.total_seconds():.0f}"
        failed = [s for s in run["steps"] if s["status"] == "failed"]
        runs.add_row(
            str(run["id"]),
            run["command"],
            started.replace("T", " ").removesuffix("Z"),
            seconds,
            run["outcome"],
            "; ".join(f"{s['stage']} {s['target']}: {s['message']}" for s in failed),
            style=None if run["outcome"] == "ok" else "red",
        )
    fresh = Table(title="Freshness (rules: data/freshness.toml)")
    for column in ("source", "name", "newest (UTC)", "state"):
        fresh.add_column(column)
    for f in report.freshness:
        newest = f"{f.newest_at:%Y-%m-%d %H:%M}" if f.newest_at else "never"
        fresh.add_row(
            f.kind,
            f.label if f.kind != "agents" else f"{f.items} agents",
            newest,
            ("STALE: " if f.stale else "ok: ") + f.describe(report.now),
            style="red" if f.stale else None,
        )
    quarantine = Table(title="Quarantine (pending review)")
    for column in ("provider", "pending", "reasons"):
        quarantine.add_column(column, justify="right" if column == "pending" else "left")
    for provider, reasons in report.quarantine.items():
        quarantine.add_row(
            provider,
            str(sum(reasons.values())),
            ", ".join(f"{reason} {n}" for reason, n in reasons.items()),
        )
    breakers = Table(title="Circuit breakers")
    for column in ("provider", "state", "failures", "last error"):
        breakers.add_column(column, justify="right" if column == "failures" else "left")
    for b in report.breakers:
        breakers.add_row(
            b["provider"],
            b["state"],
            str(b["consecutive_failures"]),
            b["last_error"] or "",
            style="red" if b["state"] != "closed" else None,
        )
    return [runs, fresh, quarantine, breakers]
