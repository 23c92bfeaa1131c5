"""Pure page data for bestvpnserver: per-server statistics from the daily rollups, and
summaries over groups of servers. No I/O; the page kinds pass rows in."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from slugify import slugify

from site_builder.config import QualityConfig

QualityGate = QualityConfig  # how much data a page needs (configured per site)


def median(values: Iterable[float | int | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def server_slug(hostname: str) -> str:
    return slugify(hostname, max_length=120) or "server"


def _stats_of(server: dict[str, Any], rows: list[Any], uptimes: list[float]) -> dict[str, Any]:
    days: dict[date, list[Any]] = defaultdict(list)
    protocols: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        days[row.day].append(row)
        protocols[row.protocol].append(row)
    runs = sum(r.runs for r in rows)
    successes = sum(r.successes for r in rows)
    slug = server_slug(server["hostname"])
    return {
        **server,
        "slug": slug,
        "url": f"/servers/{server['provider_slug']}/{slug}/",
        "runs": runs,
        "success_rate": successes / runs if runs else 0.0,
        "download_median_bps": median(r.download_median_bps for r in rows),
        "upload_median_bps": median(r.upload_median_bps for r in rows),
        "latency_median_ms": median(r.latency_median_ms for r in rows),
        "first_day": min(days),
        "last_day": max(days),
        "series": [
            (
                day,
                median(r.download_median_bps for r in day_rows),
                median(r.latency_median_ms for r in day_rows),
            )
            for day, day_rows in sorted(days.items())
        ],
        "protocols": {
            name: {
                "runs": sum(r.runs for r in proto_rows),
                "download_median_bps": median(r.download_median_bps for r in proto_rows),
                "latency_median_ms": median(r.latency_median_ms for r in proto_rows),
            }
            for name, proto_rows in sorted(protocols.items())
        },
        "uptime_pct": sum(uptimes) / len(uptimes) if uptimes else None,
    }


def server_stats(
    servers: Sequence[dict[str, Any]],
    daily_rows: Iterable[Any],
    uptime_rows: Iterable[Any],
) -> list[dict[str, Any]]:
    """Per server: run counts, medians of its daily medians, a daily series, per-protocol
    figures and uptime. Servers without a measured day are left out.

    `daily_rows` (attributes server_id, day, protocol, runs, successes and the medians)
    must come ordered by server: they are consumed as a stream, one server at a time, so
    memory holds the statistics, never every row.
    """
    uptimes: dict[int, list[float]] = defaultdict(list)
    for row in uptime_rows:
        uptimes[row.server_id].append(row.uptime_pct)
    by_id = {s["id"]: s for s in servers}
    stats: dict[int, dict[str, Any]] = {}
    current: list[Any] = []
    for row in daily_rows:
        if current and row.server_id != current[0].server_id:
            _collect(stats, by_id, current, uptimes)
            current = []
        current.append(row)
    if current:
        _collect(stats, by_id, current, uptimes)
    return [stats[s["id"]] for s in servers if s["id"] in stats]


def _collect(
    stats: dict[int, dict[str, Any]],
    by_id: dict[int, dict[str, Any]],
    rows: list[Any],
    uptimes: dict[int, list[float]],
) -> None:
    server = by_id.get(rows[0].server_id)
    if server is not None:  # rows of an unlisted (disabled, retired) server are skipped
        stats[server["id"]] = _stats_of(server, rows, uptimes.get(server["id"], []))


def fastest_first(stats: Iterable[dict[str, Any]], gate: QualityGate) -> list[dict[str, Any]]:
    """Servers with enough runs and a download median, fastest first (ties: stable)."""
    return sorted(
        (
            s
            for s in stats
            if s["runs"] >= gate.min_runs_per_server and s["download_median_bps"] is not None
        ),
        key=lambda s: (-s["download_median_bps"], s["provider_slug"], s["hostname"]),
    )


def summary(stats: Sequence[dict[str, Any]], newest: date, gate: QualityGate) -> dict[str, Any]:
    """Figures for a group of servers: sample size, window, medians, freshness."""
    last = max(s["last_day"] for s in stats)
    return {
        "servers": len(stats),
        "runs": sum(s["runs"] for s in stats),
        "first_day": min(s["first_day"] for s in stats),
        "last_day": last,
        "stale": (newest - last) > timedelta(days=gate.stale_after_days),
        "download_median_bps": median(s["download_median_bps"] for s in stats),
        "upload_median_bps": median(s["upload_median_bps"] for s in stats),
        "latency_median_ms": median(s["latency_median_ms"] for s in stats),
        "success_rate": sum(s["success_rate"] * s["runs"] for s in stats)
        / max(1, sum(s["runs"] for s in stats)),
        "countries": len({s["country_code"] for s in stats}),
        "providers": len({s["provider_slug"] for s in stats}),
    }


def daily_series(stats: Sequence[dict[str, Any]]) -> list[tuple[date, float, float | None]]:
    """Per day, the median over servers of their daily download (bytes/s) and latency."""
    downloads: dict[date, list[float]] = defaultdict(list)
    latencies: dict[date, list[float]] = defaultdict(list)
    for s in stats:
        for day, download, latency in s["series"]:
            if download is not None:
                downloads[day].append(download)
            if latency is not None:
                latencies[day].append(latency)
    return [
        (day, statistics.median(values), median(latencies.get(day, [])))
        for day, values in sorted(downloads.items())
    ]
