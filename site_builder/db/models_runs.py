"""Operations tables: run history, the freshness the last build saw, and alerts sent.

- ``ops_runs``: one row per `build-site` or stage command run alone (start, end, outcome,
  the pending quarantine before and after);
- ``ops_steps``: one row per step of a run (stage, target, status, timing, message) with
  its counts as JSON (offers per provider, batches and rows per probe and agent, pages,
  files and bytes, check results);
- ``ops_freshness``: each source's newest data against its rule, as evaluated before a
  build: what the public status pages show (so a page reads the store, never the rules);
- ``ops_alerts``: each problem alerted, once per UTC day (the key and day are the primary
  key, so a second run the same day finds it and sends nothing).

``db maintain`` prunes runs, steps and alerts older than its window (``db/maintain.py``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from site_builder.db.models import Base
from site_builder.db.types import UTCDateTime


class OpsRun(Base):
    """One run of `build-site` or of one stage command."""

    __tablename__ = "ops_runs"
    __table_args__ = (Index(None, "started_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    command: Mapped[str] = mapped_column(String(40))  # build-site | pull prices | build | ...
    sites: Mapped[str] = mapped_column(String(200), default="")  # comma-separated
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(10), default="running")  # ok | failed | running
    summary: Mapped[str] = mapped_column(Text, default="")
    quarantine_before: Mapped[int | None] = mapped_column(Integer)
    quarantine_after: Mapped[int | None] = mapped_column(Integer)


class OpsStep(Base):
    """One step of a run: a pull of one source, or a site's build, check or deploy."""

    __tablename__ = "ops_steps"
    __table_args__ = (Index(None, "run_id"), Index(None, "stage", "target", "started_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ops_runs.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))  # ok | failed | not run
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OpsFreshness(Base):
    """A source's newest data against its rule, as last evaluated (one row per source)."""

    __tablename__ = "ops_freshness"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # provider|probe|agents|..
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))  # the public name
    newest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_age_hours: Mapped[float] = mapped_column(Float)
    stale: Mapped[bool] = mapped_column(Boolean)
    item_count: Mapped[int] = mapped_column(Integer, default=1)  # agents: how many
    stale_count: Mapped[int] = mapped_column(Integer, default=0)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OpsAlert(Base):
    """A problem alerted on one UTC day; a failed send is kept and retried by the next run."""

    __tablename__ = "ops_alerts"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
