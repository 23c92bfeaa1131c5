"""Rollups of raw measurements, recomputed only for what a new batch touched.

Statistics: ``runs`` (all attempts), ``successes``, and p10 / median / p90 of latency,
download and upload over successful runs. Percentiles use linear interpolation between
closest ranks (the "inclusive" method: p = v[lo] + (v[hi] - v[lo]) * frac at position
(n - 1) * q), so p10 and p90 of a single value are that value.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Engine, select, text, tuple_

from site_builder.db.models import (
    VpnMeasurement,
    VpnMeasurementDaily,
    VpnMeasurementHourly,
    VpnProviderCountryDaily,
    VpnRollupDirtyHour,
    VpnServer,
    VpnServerProbeLatest,
)
from site_builder.db.upsert import upsert

raw = VpnMeasurement.__table__
servers = VpnServer.__table__
CHUNK = 500


def percentile(ordered: list[float], q: float) -> float:
    """The q-quantile (0..1) of an ascending list, by linear interpolation."""
    if not ordered:
        raise ValueError("percentile of no values")
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


_SUMMARY_METRICS = tuple(
    (
        attrgetter(column),
        tuple(f"{name}_{label}_{unit}" for label in ("p10", "median", "p90")),
        as_int,
    )
    for name, column, unit, as_int in (
        ("latency", "latency_ms", "ms", False),
        ("download", "download_bps", "bps", True),
        ("upload", "upload_bps", "bps", True),
    )
)


def summarize(rows: Iterable[Any]) -> dict[str, Any]:
    """Rollup statistics for measurement rows (with connect_success, latency_ms, *_bps).

    Called once per hourly group, and most hold one or two runs: a single value is its own
    p10, median and p90 without interpolating."""
    rows = rows if isinstance(rows, list) else list(rows)
    ok = [r for r in rows if r.connect_success]
    stats: dict[str, Any] = {"runs": len(rows), "successes": len(ok)}
    for value_of, (p10_name, median_name, p90_name), as_int in _SUMMARY_METRICS:
        values = sorted([v for v in map(value_of, ok) if v is not None])
        if not values:
            p10 = median = p90 = None
        elif len(values) == 1:
            p10 = median = p90 = round(values[0]) if as_int else values[0]
        else:
            p10, median, p90 = (percentile(values, q) for q in (0.1, 0.5, 0.9))
            if as_int:
                p10, median, p90 = round(p10), round(median), round(p90)
        stats[p10_name], stats[median_name], stats[p90_name] = p10, median, p90
    return stats


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def refresh_latest(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Keep, per server x probe x protocol, the newest run (older re-sends never win)."""
    newest: dict[tuple[int, str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["server_id"], row["probe_id"], row["protocol"])
        if key not in newest or newest[key]["started_at"] < row["started_at"]:
            newest[key] = row
    if not newest:
        return
    table = VpnServerProbeLatest.__table__
    keys = list(newest)
    current = {}
    for offset in range(0, len(keys), CHUNK):
        chunk = keys[offset : offset + CHUNK]
        for existing in connection.execute(
            select(table.c.server_id, table.c.probe_id, table.c.protocol, table.c.started_at).where(
                tuple_(table.c.server_id, table.c.probe_id, table.c.protocol).in_(chunk)
            )
        ):
            current[(existing.server_id, existing.probe_id, existing.protocol)] = (
                existing.started_at
            )
    upsert(
        connection,
        table,
        [
            {
                "server_id": s,
                "probe_id": p,
                "protocol": pr,
                "measurement_id": row["id"],
                "started_at": row["started_at"],
                "connect_success": row["connect_success"],
                "latency_ms": row["latency_ms"],
                "download_bps": row["download_bps"],
                "upload_bps": row["upload_bps"],
            }
            for (s, p, pr), row in sorted(newest.items(), key=lambda item: item[0])
            if (s, p, pr) not in current or current[(s, p, pr)] < row["started_at"]
        ],
        key=["server_id", "probe_id", "protocol"],
    )


# --------------------------------------------------------------------------- the pull's pass

dirty = VpnRollupDirtyHour.__table__

_STATS = (
    ("latency", "latency_ms", "ms", False),
    ("download", "download_bps", "bps", True),
    ("upload", "upload_bps", "bps", True),
)


def mark_dirty(connection: Connection, hours: set[datetime]) -> None:
    upsert(connection, dirty, [{"hour": h} for h in sorted(hours)], key=["hour"], update=())


def _stats_sql(alias: str = "m") -> tuple[list[str], str]:
    """Column names and the SELECT list of the rollup statistics (PostgreSQL).

    percentile_cont interpolates linearly between the closest ranks: the same rule as
    `percentile`, so both databases store the same numbers (tests run on both)."""
    names = ["runs", "successes"]
    parts = ["count(*)", f"count(*) FILTER (WHERE {alias}.connect_success)"]
    for name, column, unit, as_int in _STATS:
        for label, q in (("p10", 0.1), ("median", 0.5), ("p90", 0.9)):
            expression = (
                f"percentile_cont({q}) WITHIN GROUP (ORDER BY {alias}.{column})"
                f" FILTER (WHERE {alias}.connect_success)"
            )
            parts.append(f"round({expression})::bigint" if as_int else expression)
            names.append(f"{name}_{label}_{unit}")
    return names, ", ".join(parts)


def _on_conflict(key: list[str], names: list[str]) -> str:
    updates = ", ".join(f"{n} = excluded.{n}" for n in names if n not in key)
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"


def _postgresql_statements() -> list[str]:
    """The hourly rollup, the daily one, provider x country daily, latest per probe."""
    names, stats = _stats_sql()
    window = (
        "m.started_at >= (SELECT min(hour) FROM vpn_rollup_dirty_hours)"
        " AND m.started_at < (SELECT max(hour) FROM vpn_rollup_dirty_hours) + interval '1 hour'"
    )
    hour = "date_trunc('hour', m.started_at, 'UTC')"
    day = "(date_trunc('day', m.started_at, 'UTC') AT TIME ZONE 'UTC')::date"
    dirty_days = "m.started_at >= d.day AND m.started_at < d.day + interval '1 day'"
    days_cte = (
        "WITH d AS (SELECT DISTINCT date_trunc('day', hour, 'UTC') AS day"
        " FROM vpn_rollup_dirty_hours)"
    )
    statements = [
        f"INSERT INTO vpn_measurement_hourly (server_id, protocol, hour, {', '.join(names)})"
        f" SELECT m.server_id, m.protocol, {hour}, {stats} FROM vpn_measurements m"
        f" JOIN vpn_rollup_dirty_hours d ON {hour} = d.hour WHERE {window}"
        f" GROUP BY 1, 2, 3 {_on_conflict(['server_id', 'protocol', 'hour'], names)}",
        f"{days_cte} INSERT INTO vpn_measurement_daily"
        f" (server_id, protocol, day, {', '.join(names)})"
        f" SELECT m.server_id, m.protocol, {day}, {stats} FROM vpn_measurements m"
        f" JOIN d ON {dirty_days} GROUP BY 1, 2, 3"
        f" {_on_conflict(['server_id', 'protocol', 'day'], names)}",
        f"{days_cte} INSERT INTO vpn_provider_country_daily"
        f" (provider_slug, country_code, protocol, day, servers, {', '.join(names)})"
        f" SELECT s.provider_slug, s.country_code, m.protocol, {day}, count(DISTINCT m.server_id),"
        f" {stats} FROM vpn_measurements m JOIN vpn_servers s ON s.id = m.server_id"
        f" JOIN d ON {dirty_days} GROUP BY 1, 2, 3, 4"
        " "
        + _on_conflict(["provider_slug", "country_code", "day", "protocol"], ["servers", *names]),
        "INSERT INTO vpn_server_probe_latest (server_id, probe_id, protocol, measurement_id,"
        " started_at, connect_success, latency_ms, download_bps, upload_bps)"
        " SELECT DISTINCT ON (m.server_id, m.probe_id, m.protocol) m.server_id, m.probe_id,"
        " m.protocol, m.id, m.started_at, m.connect_success, m.latency_ms, m.download_bps,"
        f" m.upload_bps FROM vpn_measurements m JOIN vpn_rollup_dirty_hours d ON {hour} = d.hour"
        f" WHERE {window}"
        " ORDER BY m.server_id, m.probe_id, m.protocol, m.started_at DESC, m.id DESC"
        " ON CONFLICT (server_id, probe_id, protocol) DO UPDATE SET"
        " measurement_id = excluded.measurement_id, started_at = excluded.started_at,"
        " connect_success = excluded.connect_success, latency_ms = excluded.latency_ms,"
        " download_bps = excluded.download_bps, upload_bps = excluded.upload_bps"
        " WHERE vpn_server_probe_latest.started_at < excluded.started_at",
    ]
    return statements


def _run(engine: Engine, statements: list[str]) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def _refresh_postgresql(engine: Engine) -> None:
    """The hourly rollup in one connection and the rest in another, at the same time: each
    is one server process's work, and they read the same rows and write different tables.
    Should either fail, the hours stay marked dirty and the next pull computes them again."""
    hourly, *others = _postgresql_statements()
    with ThreadPoolExecutor(2) as pool:
        for done in [pool.submit(_run, engine, [hourly]), pool.submit(_run, engine, others)]:
            done.result()


def _refresh_python(connection: Connection, hours: list[datetime]) -> None:
    """The rollups of the dirty hours and their whole days, from one read of those days'
    raw rows: hourly for the dirty hours, daily and provider x country for every group of
    the dirty days (recomputing an unchanged group gives the same numbers)."""
    dirty_hours = set(hours)
    days = sorted({hour.date() for hour in hours})
    dirty_days = set(days)
    per_hour: dict[tuple[int, str, datetime], list[Any]] = defaultdict(list)
    per_day: dict[tuple[int, str, date], list[Any]] = defaultdict(list)
    per_group: dict[tuple[str, str, str, date], list[Any]] = defaultdict(list)
    in_dirty_hours = []
    statement = (
        select(
            raw.c.id,
            raw.c.server_id,
            raw.c.probe_id,
            raw.c.protocol,
            raw.c.started_at,
            raw.c.connect_success,
            raw.c.latency_ms,
            raw.c.download_bps,
            raw.c.upload_bps,
            servers.c.provider_slug,
            servers.c.country_code,
        )
        .join(servers, servers.c.id == raw.c.server_id)
        .where(
            raw.c.started_at >= day_bounds(days[0])[0], raw.c.started_at < day_bounds(days[-1])[1]
        )
    )
    for row in connection.execute(statement):
        hour = hour_of(row.started_at)
        day = hour.date()
        if day not in dirty_days:
            continue
        per_day[(row.server_id, row.protocol, day)].append(row)
        per_group[(row.provider_slug, row.country_code, row.protocol, day)].append(row)
        if hour in dirty_hours:
            per_hour[(row.server_id, row.protocol, hour)].append(row)
            in_dirty_hours.append(row)
    _store_summaries(
        connection, VpnMeasurementHourly.__table__, ("server_id", "protocol", "hour"), per_hour
    )
    _store_summaries(
        connection, VpnMeasurementDaily.__table__, ("server_id", "protocol", "day"), per_day
    )
    _store_summaries(
        connection,
        VpnProviderCountryDaily.__table__,
        ("provider_slug", "country_code", "protocol", "day"),
        per_group,
        count_servers=True,
    )
    refresh_latest(connection, [dict(r._mapping) for r in in_dirty_hours])


def _store_summaries(
    connection: Connection,
    table: Any,
    key: tuple[str, ...],
    groups: dict[Any, list[Any]],
    *,
    count_servers: bool = False,
) -> None:
    """Upsert one rollup row per group: the group's key columns and its `summarize`."""
    upsert(
        connection,
        table,
        [
            {
                **dict(zip(key, group_key, strict=True)),
                **({"servers": len({r.server_id for r in group})} if count_servers else {}),
                **summarize(group),
            }
            for group_key, group in sorted(groups.items())
        ],
        key=list(key),
    )


def refresh_dirty(engine: Engine) -> int:
    """Recompute every rollup for the hours marked dirty, then clear them; returns hours done."""
    with engine.connect() as connection:
        hours = sorted(connection.execute(select(dirty.c.hour)).scalars())
    if not hours:
        return 0
    if engine.dialect.name == "postgresql":
        _refresh_postgresql(engine)
    else:
        # a day at a time: memory follows the rows of one day, not of the pull's batches
        # (the newest-run table only moves forward, so the order of days does not matter)
        with engine.begin() as connection:
            for _, day_hours in itertools.groupby(hours, key=lambda hour: hour.date()):
                _refresh_python(connection, list(day_hours))
    with engine.begin() as connection:
        for offset in range(0, len(hours), CHUNK):
            connection.execute(
                dirty.delete().where(dirty.c.hour.in_(hours[offset : offset + CHUNK]))
            )
    return len(hours)
