"""Run history and alerts around the commands: `build-site` and every stage run alone
record a run (`site_builder.ops.runs`), and after each run the freshness is refreshed and new
problems are alerted (`site_builder.ops.after_run`).

None of this may fail a run: a store or network error here is printed as a warning and
the command's own outcome stands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import click

from site_builder import ops
from site_builder.cli.app import AppContext
from site_builder.cli.present import printable
from site_builder.pipeline import Outcome, describe

T = TypeVar("T")


def now() -> datetime:
    return datetime.now(UTC)


def _warn(what: str, error: Exception) -> None:
    click.echo(f"warning: {what}: {printable(describe(error))}", err=True)


def start_recording(app: AppContext, command: str, sites: Iterable[str]) -> ops.Recorder | None:
    """A started run record, or None (with a warning) when the store cannot take it."""
    try:
        recorder = ops.Recorder(app.engine(), command, sites)
        recorder.start(now())
    except Exception as error:
        _warn("the run is not recorded", error)
        return None
    return recorder


def record_outcome(recorder: ops.Recorder | None, outcome: Outcome, result: object = None) -> None:
    if recorder is None:
        return
    finished = now()
    try:
        recorder.step(
            outcome.step.stage,
            outcome.step.target,
            outcome.status,
            started=finished - timedelta(seconds=outcome.seconds),
            finished=finished,
            message=outcome.message,
            result=outcome.result if result is None else result,
        )
    except Exception as error:
        _warn(f"step {outcome.step.key} is not recorded", error)


def finish_recording(
    app: AppContext, recorder: ops.Recorder | None, failed: bool, summary: str
) -> None:
    """End the run's record, then refresh freshness and alert on new problems."""
    if recorder is None or recorder.run_id is None:
        return
    try:
        recorder.finish("failed" if failed else "ok", summary, now())
        project = app.project
        rules = ops.load_rules(project.path(project.config.paths.freshness_rules))
        settings = ops.AlertSettings.from_env(app.env.values)
        outcome = ops.after_run(
            app.engine(), recorder.run_id, rules, project.select_sites(()), settings, now()
        )
    except Exception as error:
        _warn("alerts not sent", error)
        return
    for alert in outcome.alerts:
        if alert.sent:
            app.console.print(f"alert sent ({alert.endpoint}): {alert.problem.message}")
        else:
            click.echo(
                f"warning: alert not sent ({alert.endpoint}, {alert.note}):"
                f" {printable(alert.problem.message)}",
                err=True,
            )


def refresh_freshness(app: AppContext) -> None:
    """Before a build: evaluate each source's freshness, for the public status pages."""
    try:
        project = app.project
        rules = ops.load_rules(project.path(project.config.paths.freshness_rules))
        ops.refresh_freshness(app.engine(), rules, project.select_sites(()), now())
    except Exception as error:
        _warn("freshness not refreshed for the status pages", error)


def run_recorded(
    app: AppContext,
    command: str,
    stage: str,
    target: str,
    sites: Iterable[str],
    run: Callable[[], T],
    collected: list[object] | None = None,
) -> T:
    """Run one stage command alone as a recorded run of one step; errors still propagate.
    `collected` is a list the stage fills with its reports as it goes (the check's, which
    raises when a check fails): the step's counts are taken from it, else from the return."""
    from site_builder.pipeline import Step

    recorder = start_recording(app, command, sites)
    step = Step(stage, target, run)  # type: ignore[arg-type]
    started = now()
    try:
        value = run()
    except Exception as error:
        seconds = (now() - started).total_seconds()
        message = describe(error).removeprefix(f"{target}: ")
        record_outcome(recorder, Outcome(step, "failed", message, seconds, error), collected)
        finish_recording(app, recorder, True, f"{step.key}: {message}")
        raise
    seconds = (now() - started).total_seconds()
    result = collected if collected is not None else value
    record_outcome(recorder, Outcome(step, "ok", seconds=seconds, result=result))
    finish_recording(app, recorder, False, f"{step.key}: ok")
    return value
