"""Operations: run history, freshness rules, alerts and the status summaries.

The stage the nightly job reports to. Its parts, each callable without click:

- `runs`: the run history (`ops_runs`, `ops_steps`) and each step's counts;
- `rules`: the freshness rules (`data/freshness.toml`);
- `freshness`: each source's newest data against its rule; stored for the public pages;
- `problems`: what deserves attention, each with a stable key;
- `alerts`: webhooks (Slack, generic signed JSON), once per problem and day;
- `status`: the operator's summary (`site-builder status`);
- `public`: what the sites' public `/status/` pages and `status.json` show.

May import `db` (and the leaf modules `errors`, `datafiles`); `sites` import `ops.public`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from site_builder.ops import freshness
from site_builder.ops.alerts import AlertOutcome, AlertSettings, send_alerts
from site_builder.ops.problems import Problem, breaker_problems, freshness_problems, run_problems
from site_builder.ops.rules import FreshnessRules, load_rules
from site_builder.ops.runs import Recorder

__all__ = [
    "AfterRun",
    "AlertSettings",
    "FreshnessRules",
    "Recorder",
    "after_run",
    "load_rules",
    "refresh_freshness",
]


@dataclass
class AfterRun:
    problems: list[Problem] = field(default_factory=list)
    alerts: list[AlertOutcome] = field(default_factory=list)


def refresh_freshness(
    engine: Engine, rules: FreshnessRules, sites: Iterable[str], now: datetime
) -> list[freshness.Freshness]:
    """Evaluate every source's freshness now and store it (what the status pages show)."""
    with engine.begin() as connection:
        checks = freshness.evaluate(connection, rules, sites, now)
        freshness.record(connection, checks, now)
    return checks


def after_run(
    engine: Engine,
    run_id: int,
    rules: FreshnessRules,
    sites: Iterable[str],
    settings: AlertSettings,
    now: datetime,
) -> AfterRun:
    """After a recorded run: refresh freshness, collect the problems, alert on new ones."""
    checks = refresh_freshness(engine, rules, sites, now)
    with engine.connect() as connection:
        problems = (
            run_problems(connection, run_id)
            + freshness_problems(checks, now)
            + breaker_problems(connection)
        )
    outcome = AfterRun(problems)
    outcome.alerts = send_alerts(engine, problems, settings, run_id=run_id, now=now)
    return outcome
