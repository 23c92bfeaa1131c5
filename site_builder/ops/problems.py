"""The problems worth a person's attention, each with a stable key (one alert per key a day).

| kind | key | when |
| --- | --- | --- |
| `stage_failed` | `step:<stage> <target>` | a step of the run failed |
| `provider_failed` | `provider:<slug>` | a price provider failed in the run's pull |
| `server_list_failed` | `server_list:<slug>` | a VPN server list failed or was quarantined |
| `publish_refused` | `guard:<site>` | the page-loss guard refused the site's new build |
| `stale` | `stale:<kind>:<key>` | a source broke its freshness rule |
| `quarantine_grew` | `quarantine` | the run left more price rows pending review than it found |
| `breaker_open` | `breaker:<slug>` | a provider's circuit breaker is open |

A check that failed only because of the page-loss guard is a `publish_refused`, not also a
`stage_failed`: one problem, one alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from site_builder.db.models import GpuProviderHealth
from site_builder.db.models_runs import OpsRun, OpsStep
from site_builder.ops.freshness import Freshness

GUARD_CHECK = "page loss"  # the check name of the publish guard (site_builder.check)

TITLES = {
    "stage_failed": "A stage failed",
    "provider_failed": "A price provider failed",
    "server_list_failed": "A VPN server list failed",
    "publish_refused": "The publish guard refused a build",
    "stale": "Data is stale",
    "quarantine_grew": "Quarantine grew",
    "breaker_open": "A circuit breaker is open",
}


@dataclass(frozen=True)
class Problem:
    kind: str
    key: str
    message: str

    @property
    def title(self) -> str:
        return TITLES.get(self.kind, self.kind)


def run_problems(connection: Connection, run_id: int) -> list[Problem]:
    """What went wrong in one recorded run: failed steps, providers, guard refusals and a
    growing quarantine."""
    steps = OpsStep.__table__
    problems: list[Problem] = []
    for step in connection.execute(
        select(steps).where(steps.c.run_id == run_id).order_by(steps.c.id)
    ):
        counts = step.counts or {}
        name = f"{step.stage} {step.target}"
        if step.stage == "pull" and step.target == "servers":
            problems.extend(_server_list_problems(counts))
        if step.stage == "pull" and step.target != "servers":
            for slug, provider in sorted((counts.get("providers") or {}).items()):
                if provider.get("status") == "failed":
                    problems.append(
                        Problem(
                            "provider_failed",
                            f"provider:{slug}",
                            f"{slug}: {provider.get('message') or 'failed'}",
                        )
                    )
        other_failures = True
        if step.stage == "check":
            for site, found in sorted((counts.get("sites") or {}).items()):
                failed = found.get("failed") or []
                if GUARD_CHECK in failed:
                    losses = (found.get("problems") or {}).get(GUARD_CHECK, 0)
                    problems.append(
                        Problem(
                            "publish_refused",
                            f"guard:{site}",
                            f"{site}: the new build lost too many of the last deploy's pages"
                            f" ({losses} problem(s)); nothing was published"
                            " (`site-builder check --force` overrides)",
                        )
                    )
                    other_failures = any(f != GUARD_CHECK for f in failed)
        if step.status == "failed" and other_failures:
            problems.append(Problem("stage_failed", f"step:{name}", f"{name}: {step.message}"))
    run = connection.execute(select(OpsRun.__table__).where(OpsRun.__table__.c.id == run_id)).one()
    before, after = run.quarantine_before, run.quarantine_after
    if before is not None and after is not None and after > before:
        problems.append(
            Problem(
                "quarantine_grew",
                "quarantine",
                f"{after - before} price row(s) newly held for review, {after} pending"
                " (`site-builder quarantine list`)",
            )
        )
    return problems


def _server_list_problems(counts: dict[str, Any]) -> list[Problem]:
    """A list that failed or was quarantined: the previous inventory stays on the pages, so
    nothing is lost tonight, but a list that keeps failing goes stale in a few nights."""
    problems = []
    for slug, provider in sorted((counts.get("providers") or {}).items()):
        status = provider.get("status")
        if status not in ("failed", "quarantined"):
            continue
        # the pull's reason names the provider, and a shrink names `--accept-shrink`
        text = provider.get("message") or status
        text = text if text.startswith(f"{slug}:") else f"{slug}: {text}"
        text += "" if "kept" in text else "; the inventory is kept"
        problems.append(
            Problem("server_list_failed", f"server_list:{slug}", f"{text} (list {status})")
        )
    return problems


def freshness_problems(checks: Iterable[Freshness], now: datetime) -> list[Problem]:
    return [
        Problem("stale", f"stale:{c.kind}:{c.key}", f"{c.kind} {c.label}: {c.describe(now)}")
        for c in checks
        if c.stale
    ]


def breaker_problems(connection: Connection) -> list[Problem]:
    table = GpuProviderHealth.__table__
    return [
        Problem(
            "breaker_open",
            f"breaker:{row.provider_slug}",
            f"{row.provider_slug}: circuit open after {row.consecutive_failures} failed runs"
            + (f" (last: {row.last_error})" if row.last_error else ""),
        )
        for row in connection.execute(
            select(table).where(table.c.state == "open").order_by(table.c.provider_slug)
        )
    ]
