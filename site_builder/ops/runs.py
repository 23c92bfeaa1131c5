"""Run history: every `build-site` and every stage command run alone, with its steps.

A run row is written when the run starts (so a killed run shows as `running` with no end),
each step as it ends, and the run's outcome at the end. Each step keeps its counts as
plain JSON, taken from the stage's own report:

- pull prices: per provider, status, offers seen, accepted, quarantined (with held price
  moves) and rejected (seen but neither accepted nor quarantined: duplicates, GPU count
  below one), and milliseconds;
- pull measurements: batches ingested, duplicate, rejected and failed; records; and per
  probe and per agent (server), the batches and rows the store took during the step;
- build: pages, rendered, skipped, written, removed;
- check: problems per check, and whether the build was promoted;
- deploy: files, files and bytes uploaded, functions.

Recording never fails a run: a store error while recording is reported by the caller and
the stage's own outcome stands.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from site_builder.db.models import GpuQuarantine, VpnHeartbeat, VpnIngestedBatch, VpnServer
from site_builder.db.models_runs import OpsRun, OpsStep
from site_builder.pull.servers import ServerListReport


@dataclass(frozen=True)
class StepRecord:
    stage: str
    target: str
    status: str  # ok | failed | not run
    started_at: datetime
    seconds: float
    message: str = ""
    counts: dict[str, Any] | None = None


def pending_quarantine(connection: Connection) -> int:
    table = GpuQuarantine.__table__
    return connection.execute(select(func.count()).where(table.c.status == "pending")).scalar_one()


def start_run(engine: Engine, command: str, sites: Iterable[str], now: datetime) -> int:
    with engine.begin() as connection:
        return connection.execute(
            OpsRun.__table__.insert()
            .values(
                command=command,
                sites=",".join(sites),
                started_at=now,
                outcome="running",
                summary="",
                quarantine_before=pending_quarantine(connection),
            )
            .returning(OpsRun.__table__.c.id)
        ).scalar_one()


def record_step(engine: Engine, run_id: int, step: StepRecord) -> None:
    with engine.begin() as connection:
        connection.execute(
            OpsStep.__table__.insert().values(
                run_id=run_id,
                stage=step.stage,
                target=step.target,
                status=step.status,
                started_at=step.started_at,
                seconds=round(step.seconds, 3),
                message=step.message,
                counts=step.counts or {},
            )
        )


def finish_run(engine: Engine, run_id: int, outcome: str, summary: str, now: datetime) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(OpsRun.__table__)
            .where(OpsRun.__table__.c.id == run_id)
            .values(
                finished_at=now,
                outcome=outcome,
                summary=summary,
                quarantine_after=pending_quarantine(connection),
            )
        )


# --------------------------------------------------------------------------- counts


def step_counts(
    stage: str, result: object, engine: Engine, started: datetime, finished: datetime
) -> dict[str, Any]:
    """The counts of a step from what its stage returned (reports, or lists of them)."""
    if stage == "pull" and isinstance(result, ServerListReport):
        return server_list_counts(result)
    if stage == "pull" and hasattr(result, "results") and hasattr(result, "run_id"):
        return price_counts(result)
    if stage == "pull" and hasattr(result, "results"):
        return measurement_counts(result, engine, started, finished)
    items = result if isinstance(result, list) else [result] if result is not None else []
    if stage == "build":
        return {"sites": {r.site: build_counts(r) for r in items if hasattr(r, "pages")}}
    if stage == "check":
        return {"sites": {o.report.site: check_counts(o) for o in items if hasattr(o, "report")}}
    if stage == "deploy":
        return {"sites": {r.site: deploy_counts(r) for r in items if hasattr(r, "deployed")}}
    return {}


def price_counts(report: Any) -> dict[str, Any]:
    providers = {}
    for r in report.results:
        quarantined = r.quarantined + r.held
        providers[r.provider] = {
            "status": r.status,
            "seen": r.seen,
            "accepted": r.stored,
            "quarantined": quarantined,
            "rejected": max(0, r.seen - r.stored - quarantined),
            "ms": r.duration_ms,
            **({"message": r.message} if r.message else {}),
        }
    return {"run_id": report.run_id, "source": report.source, "providers": providers}


def server_list_counts(report: Any) -> dict[str, Any]:
    """A server-list pull (site_builder.pull.servers.ServerListReport), per VPN provider."""
    providers = {
        r.provider: {
            "status": r.status,
            "servers": r.servers,
            "new_servers": r.new_servers,
            "retired": r.retired,
            **({"message": r.reason} if r.reason else {}),
        }
        for r in report.results
    }
    return {"run_id": report.run_id, "source": report.source, "providers": providers}


def measurement_counts(
    report: Any, engine: Engine, started: datetime, finished: datetime
) -> dict[str, Any]:
    counts: dict[str, Any] = {
        "batches": {
            status: report.count(status)
            for status in ("ingested", "duplicate", "rejected", "failed")
        },
        "records": report.records,
        "new_records": report.new_records,
    }
    counts.update(ingested_by_source(engine, started, finished))
    return counts


def ingested_by_source(engine: Engine, started: datetime, finished: datetime) -> dict[str, Any]:
    """Batches and rows taken between `started` and `finished`, per probe and per agent."""
    batches = VpnIngestedBatch.__table__
    in_step = (batches.c.ingested_at >= started, batches.c.ingested_at <= finished)
    rows = batches.c.measurements + batches.c.streaming_checks + batches.c.heartbeats
    heartbeats, servers = VpnHeartbeat.__table__, VpnServer.__table__
    with engine.connect() as connection:
        probes = {
            probe: {"batches": n, "rows": int(total or 0)}
            for probe, n, total in connection.execute(
                select(batches.c.probe_id, func.count(), func.sum(rows))
                .where(*in_step)
                .group_by(batches.c.probe_id)
                .order_by(batches.c.probe_id)
            )
        }
        shas = select(batches.c.sha256).where(*in_step).scalar_subquery()
        agents = {
            hostname: {"batches": n_batches, "heartbeats": n}
            for hostname, n_batches, n in connection.execute(
                select(
                    servers.c.hostname,
                    func.count(heartbeats.c.batch_sha256.distinct()),
                    func.count(),
                )
                .join(servers, servers.c.id == heartbeats.c.server_id)
                .where(heartbeats.c.batch_sha256.in_(shas))
                .group_by(servers.c.hostname)
                .order_by(servers.c.hostname)
            )
        }
    return {"probes": probes, "agents": agents}


def build_counts(r: Any) -> dict[str, Any]:
    return {
        "pages": r.pages,
        "rendered": r.rendered,
        "skipped": r.skipped,
        "written": r.written,
        "removed": len(r.removed),
        "staged": r.staged,
    }


def check_counts(outcome: Any) -> dict[str, Any]:
    report = outcome.report
    return {
        "problems": {name: len(found) for name, found in sorted(report.problems.items())},
        "failed": list(report.failed),
        "promoted": outcome.promoted,
    }


def deploy_counts(r: Any) -> dict[str, Any]:
    return {
        "deployed": r.deployed,
        "files": r.files,
        "uploaded_files": r.uploaded_files,
        "uploaded_bytes": r.uploaded_bytes,
        "uploaded_functions": r.uploaded_functions,
    }


class Recorder:
    """One run's recording: `start`, then `step` for each step as it ends, then `finish`."""

    def __init__(self, engine: Engine, command: str, sites: Iterable[str]) -> None:
        self.engine = engine
        self.command = command
        self.sites = tuple(sites)
        self.run_id: int | None = None

    def start(self, now: datetime) -> int:
        self.run_id = start_run(self.engine, self.command, self.sites, now)
        return self.run_id

    def step(
        self,
        stage: str,
        target: str,
        status: str,
        *,
        started: datetime,
        finished: datetime,
        message: str = "",
        result: object = None,
    ) -> None:
        if self.run_id is None:
            return
        counts = step_counts(stage, result, self.engine, started, finished) if result else {}
        seconds = (finished - started).total_seconds() if status != "not run" else 0.0
        record_step(
            self.engine,
            self.run_id,
            StepRecord(stage, target, status, started, seconds, message, counts),
        )

    def finish(self, outcome: str, summary: str, now: datetime) -> None:
        if self.run_id is not None:
            finish_run(self.engine, self.run_id, outcome, summary, now)
