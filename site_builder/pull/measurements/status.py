"""Server status from heartbeats (seed 003): up while heartbeats arrive, down after 4 silent
minutes, retired after 30 silent days unless an editor flagged the server static.

Each heartbeat vouches for the 4 minutes after it. Daily uptime is the share of the day
(up to `as_of` for the current day) covered by the union of those spans.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, case, select, update

from site_builder.db.models import VpnHeartbeat, VpnServer, VpnServerUptimeDaily
from site_builder.db.models_servers import VpnServerListing
from site_builder.db.upsert import upsert
from site_builder.pull.measurements.rollups import day_bounds

HEARTBEAT_GRACE = timedelta(minutes=4)
RETIRE_AFTER = timedelta(days=30)
servers = VpnServer.__table__
heartbeats = VpnHeartbeat.__table__


def uptime(beats: list[datetime], start: datetime, end: datetime) -> tuple[float, int]:
    """(uptime %, down minutes) in [start, end) given heartbeat times (any order)."""
    if end <= start:
        return 100.0, 0
    covered = timedelta(0)
    cursor = start
    for beat in sorted(beats):
        span_start, span_end = max(beat, cursor), min(beat + HEARTBEAT_GRACE, end)
        if span_end > span_start:
            covered += span_end - span_start
            cursor = span_end
    total = end - start
    down = total - covered
    return round(100 * covered / total, 3), round(down.total_seconds() / 60)


def refresh_uptime(connection: Connection, touched: set[tuple[int, date]], as_of: datetime) -> None:
    """Recompute daily uptime for the (server, day) pairs new heartbeats touched."""
    by_day: dict[date, set[int]] = defaultdict(set)
    for server_id, day in touched:
        by_day[day].add(server_id)
    rows = []
    for day, server_ids in sorted(by_day.items()):
        start, end = day_bounds(day)
        end = min(end, as_of)
        beats: dict[int, list[datetime]] = defaultdict(list)
        ids = sorted(server_ids)
        for offset in range(0, len(ids), 500):
            for row in connection.execute(
                select(heartbeats.c.server_id, heartbeats.c.at).where(
                    heartbeats.c.server_id.in_(ids[offset : offset + 500]),
                    heartbeats.c.at >= start - HEARTBEAT_GRACE,
                    heartbeats.c.at < end,
                )
            ):
                beats[row.server_id].append(row.at)
        for server_id in ids:
            in_day = sum(1 for b in beats[server_id] if b >= start)
            if not in_day:
                continue  # no heartbeat of its own that day: no figure (status still says down)
            pct, down = uptime(beats[server_id], start, end)
            rows.append(
                {
                    "server_id": server_id,
                    "day": day,
                    "uptime_pct": pct,
                    "heartbeats": in_day,
                    "down_minutes": down,
                }
            )
    upsert(connection, VpnServerUptimeDaily.__table__, rows, key=["server_id", "day"])


def refresh_status(connection: Connection, as_of: datetime) -> dict[str, int]:
    """Set every server's status as of `as_of`; returns how many changed by kind.

    Servers from a provider's server list are retired and revived by the list pull
    (`pull.servers`), against that provider's latest successful list: a silent probe or
    a failed list pull must not retire them here."""
    cutoff = as_of - RETIRE_AFTER
    unlisted = servers.c.id.not_in(select(VpnServerListing.__table__.c.server_id))
    retired = connection.execute(
        update(servers)
        .where(
            unlisted,
            servers.c.static.is_(False),
            servers.c.last_seen_at < cutoff,
            servers.c.status != "retired",
        )
        .values(status="retired", retired_at=as_of)
    ).rowcount
    revived = connection.execute(
        update(servers)
        .where(
            unlisted,
            servers.c.status == "retired",
            (servers.c.last_seen_at >= cutoff) | servers.c.static.is_(True),
        )
        .values(status="unknown", retired_at=None)
    ).rowcount
    connection.execute(
        update(servers)
        .where(servers.c.status != "retired", servers.c.last_heartbeat_at.is_not(None))
        .values(
            status=case(
                (servers.c.last_heartbeat_at >= as_of - HEARTBEAT_GRACE, "active"), else_="down"
            )
        )
    )
    return {"retired": retired, "revived": revived}
