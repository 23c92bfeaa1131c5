"""Where the figures come from: which probes and agents sent the batches behind them, over
which dates, and whether any were demo batches (then every page says so, in a banner)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from site_builder.db.models import VpnIngestedBatch

batches = VpnIngestedBatch.__table__


def provenance(connection: Connection) -> dict[str, Any] | None:
    """{"demo", "probes", "agents", "batches", "first", "last"} over every batch taken, or
    None before any was."""
    count, demo, first, last, agents = connection.execute(
        select(
            func.count(),
            func.count().filter(batches.c.demo.is_(True)),
            func.min(batches.c.first_record_at),
            func.max(batches.c.last_record_at),
            func.count(batches.c.agent_id.distinct()),
        )
    ).one()
    if not count:
        return None
    probes = connection.execute(
        select(batches.c.probe_id)
        .where(batches.c.probe_id.is_not(None), batches.c.measurements > 0)
        .distinct()
        .order_by(batches.c.probe_id)
    ).scalars()
    return {
        "demo": bool(demo),
        "probes": list(probes),
        "agents": agents,
        "batches": count,
        "first": first.date().isoformat() if first else None,
        "last": last.date().isoformat() if last else None,
    }
