"""`site-builder status`: the operator's summary, as plain data (the CLI prints it as rich
tables or JSON).

- the newest runs (command, start, end, outcome, failed steps);
- each source's freshness against its rule, evaluated now;
- price rows pending review in quarantine, per provider;
- the price providers' circuit breakers;
- the problems: every broken freshness rule, every open breaker, and what went wrong in the
  newest run of each command. Any problem makes `status` exit 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from site_builder.db.models import GpuProviderHealth, GpuQuarantine
from site_builder.db.models_runs import OpsRun, OpsStep
from site_builder.ops.freshness import Freshness, evaluate
from site_builder.ops.problems import Problem, breaker_problems, freshness_problems, run_problems
from site_builder.ops.rules import FreshnessRules

RUNS_SHOWN = 10


@dataclass
class StatusReport:
    now: datetime
    runs: list[dict[str, Any]] = field(default_factory=list)
    freshness: list[Freshness] = field(default_factory=list)
    quarantine: dict[str, dict[str, int]] = field(default_factory=dict)  # provider -> reason
    breakers: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": not self.problems,
            "checked_at": _iso(self.now),
            "problems": [
                {"kind": p.kind, "key": p.key, "message": p.message} for p in self.problems
            ],
            "freshness": [
                {
                    "kind": f.kind,
                    "key": f.key,
                    "label": f.label,
                    "newest_at": _iso(f.newest_at),
                    "max_age_hours": f.max_age_hours,
                    "stale": f.stale,
                    **(
                        {
                            "items": f.items,
                            "stale_items": f.stale_items,
                            "stale_names": list(f.stale_names),
                        }
                        if f.kind == "agents"
                        else {}
                    ),
                }
                for f in self.freshness
            ],
            "runs": self.runs,
            "quarantine": {
                "pending": sum(sum(r.values()) for r in self.quarantine.values()),
                "by_provider": self.quarantine,
            },
            "breakers": self.breakers,
        }


def _iso(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


def gather(
    connection: Connection, rules: FreshnessRules, sites: Iterable[str], now: datetime
) -> StatusReport:
    report = StatusReport(now)
    report.freshness = evaluate(connection, rules, sites, now)
    report.runs = recent_runs(connection)
    quarantine = GpuQuarantine.__table__
    for provider, reason, count in connection.execute(
        select(quarantine.c.provider_slug, quarantine.c.reason_code, func.count())
        .where(quarantine.c.status == "pending")
        .group_by(quarantine.c.provider_slug, quarantine.c.reason_code)
        .order_by(quarantine.c.provider_slug, quarantine.c.reason_code)
    ):
        report.quarantine.setdefault(provider, {})[reason] = count
    health = GpuProviderHealth.__table__
    report.breakers = [
        {
            "provider": row.provider_slug,
            "state": row.state,
            "consecutive_failures": row.consecutive_failures,
            "opened_at": _iso(row.opened_at),
            "last_success_at": _iso(row.last_success_at),
            "last_error": row.last_error,
        }
        for row in connection.execute(select(health).order_by(health.c.provider_slug))
    ]
    problems = freshness_problems(report.freshness, now) + breaker_problems(connection)
    for run_id in newest_run_per_command(connection):
        problems += [p for p in run_problems(connection, run_id) if p.kind != "quarantine_grew"]
    by_key: dict[str, Problem] = {}
    for problem in problems:
        by_key.setdefault(problem.key, problem)  # the same provider failing in two runs: once
    report.problems = list(by_key.values())
    return report


def newest_run_per_command(connection: Connection) -> list[int]:
    runs = OpsRun.__table__
    return list(
        connection.execute(
            select(func.max(runs.c.id))
            .where(runs.c.outcome != "running")
            .group_by(runs.c.command)
            .order_by(func.max(runs.c.id))
        ).scalars()
    )


def recent_runs(connection: Connection, limit: int = RUNS_SHOWN) -> list[dict[str, Any]]:
    runs, steps = OpsRun.__table__, OpsStep.__table__
    rows = connection.execute(select(runs).order_by(runs.c.id.desc()).limit(limit)).all()
    found = []
    for run in rows:
        step_rows = connection.execute(
            select(steps.c.stage, steps.c.target, steps.c.status, steps.c.seconds, steps.c.message)
            .where(steps.c.run_id == run.id)
            .order_by(steps.c.id)
        ).all()
        found.append(
            {
                "id": run.id,
                "command": run.command,
                "sites": run.sites,
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at),
                "outcome": run.outcome,
                "summary": run.summary,
                "steps": [
                    {
                        "stage": s.stage,
                        "target": s.target,
                        "status": s.status,
                        "seconds": s.seconds,
                        "message": s.message,
                    }
                    for s in step_rows
                ],
            }
        )
    return found
