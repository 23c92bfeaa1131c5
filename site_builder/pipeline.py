"""The nightly job's order and its failure rules, callable without click.

`build-site` is: pull each data source the chosen sites read, then, site by site,
build -> check -> deploy. The rules, as a site owner running it unattended needs them:

- **Sources are independent of each other and of the sites.** A data source whose pull fails
  (an unreachable batch listing, a stage deadline, a bug) stops nothing: every site still
  builds from what the store holds, which is the last data that passed validation, and whose
  pages already say how old their figures are. The run ends non-zero, naming the failure.
- **Sites are independent of each other.** One site's failed build or check never stops
  another site's stages.
- **Within a site, a stage runs only after the one before it succeeded**, so a build that
  failed is never checked and a check that failed never reaches deploy.

The stages themselves are passed in as callables (the CLI's, which also print their
reports), so tests can drive the rules with plain functions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

from sqlalchemy.exc import SQLAlchemyError

from site_builder.errors import SiteBuilderError

Stage = Literal["pull", "build", "check", "deploy"]
Status = Literal["ok", "failed", "not run"]


@dataclass(frozen=True)
class Step:
    stage: Stage
    target: str  # a data source for pull ("prices", "measurements"), else a site name
    run: Callable[[], object]
    after: str | None = None  # the key of the step that must have succeeded first

    @property
    def key(self) -> str:
        return f"{self.stage} {self.target}"


@dataclass(frozen=True)
class Outcome:
    step: Step
    status: Status
    message: str = ""
    seconds: float = 0.0
    error: Exception | None = None  # kept for --debug, which shows its traceback
    result: object = None  # what the step returned (its stage's report), for the run history


@dataclass
class RunReport:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def summary(self) -> str:
        """One line for the end of the run: what failed, or that everything passed."""
        if not self.failed:
            return f"all {len(self.outcomes)} steps passed"
        failures = "; ".join(f"{o.step.key}: {o.message}" for o in self.failed)
        return f"{len(self.failed)} of {len(self.outcomes)} steps failed: {failures}"


def describe(error: Exception) -> str:
    """The one-line reason a user sees for a failed step."""
    if isinstance(error, SiteBuilderError):
        return str(error)
    if isinstance(error, SQLAlchemyError):
        return f"database error: {getattr(error, 'orig', None) or error}"
    return f"unexpected {type(error).__name__}: {error} (rerun with --debug)"


def nightly_steps(
    sites: Sequence[str],
    *,
    sources_of: Callable[[str], Iterable[str]],
    pull: Callable[[str], object] | None,
    build: Callable[[str], object] | None,
    check: Callable[[str], object] | None,
    deploy: Callable[[str], object] | None,
) -> list[Step]:
    """The steps of a nightly run for `sites`, in order. A stage given as None is skipped
    (the user's --skip-*); the next stage of a site then follows the one before it."""
    steps: list[Step] = []
    if pull is not None:
        sources = source_order(sites, sources_of)
        steps += [Step("pull", source, _bind(pull, source)) for source in sources]
    for site in sites:
        after = None
        for stage, run in (("build", build), ("check", check), ("deploy", deploy)):
            if run is None:
                continue
            step = Step(stage, site, _bind(run, site), after)  # type: ignore[arg-type]
            steps.append(step)
            after = step.key
    return steps


def source_order(sites: Sequence[str], sources_of: Callable[[str], Iterable[str]]) -> list[str]:
    """Every source the sites read, once: alphabetical, except that a site's own order
    holds (bestvpnserver pulls its server lists before the measurements of them)."""
    order = sorted({source for site in sites for source in sources_of(site)})
    for site in sites:
        wanted = list(sources_of(site))
        for earlier, later in pairwise(wanted):
            if order.index(earlier) > order.index(later):
                order.remove(earlier)
                order.insert(order.index(later), earlier)
    return order


def _bind(function: Callable[[str], object], argument: str) -> Callable[[], object]:
    return lambda: function(argument)


def run_steps(
    steps: Iterable[Step],
    *,
    on_start: Callable[[Step], None] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> RunReport:
    """Run `steps` in order. A failing step is recorded and the run goes on; a step whose
    `after` did not succeed is not run. KeyboardInterrupt and SystemExit still stop it."""
    report = RunReport()
    succeeded: set[str] = set()
    for step in steps:
        if step.after is not None and step.after not in succeeded:
            outcome = Outcome(step, "not run", f"{step.after} did not succeed")
        else:
            if on_start:
                on_start(step)
            started = time.monotonic()
            try:
                result = step.run()
            except Exception as error:
                message = describe(error).removeprefix(f"{step.target}: ")  # named already
                outcome = Outcome(step, "failed", message, time.monotonic() - started, error)
            else:
                outcome = Outcome(step, "ok", seconds=time.monotonic() - started, result=result)
                succeeded.add(step.key)
        report.outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return report
