"""Pure page data for bestvpnserver: per-server statistics from the daily rollups, and
summaries over groups of servers. No I/O; the page kinds pass rows in."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from itertools import groupby
from operator import attrgetter, itemgetter, mul
from typing import Any, NamedTuple

from slugify import slugify

from site_builder.config import QualityConfig
from site_builder.sites.bestvpnserver.figures import (
    DailyFigures,
    ProtocolFigures,
    ProtocolServers,
    median,
)

QualityGate = QualityConfig  # how much data a page needs (configured per site)


# A hostname of lowercase labels joined by single dots or hyphens slugifies to itself with
# hyphens for dots: most do, and `slugify` costs ~20 µs a call, for every server per build.
_PLAIN_HOSTNAME = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")


_SLUG_LENGTH = 120


def server_slug(hostname: str) -> str:
    if len(hostname) <= _SLUG_LENGTH and _PLAIN_HOSTNAME.fullmatch(hostname):
        return hostname.replace(".", "-")
    return slugify(hostname, max_length=_SLUG_LENGTH) or "server"


class ProbeRun(NamedTuple):
    """A server's latest run from one probe on one protocol: a tuple, as thousands of
    servers times probes times protocols are held per build. Reads like a dict too
    (`run["latency_ms"]`), as page code and templates do."""

    server_id: int
    probe_id: str
    protocol: str
    started_at: datetime
    connect_success: bool
    latency_ms: float | None
    download_bps: int | None

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        return getattr(self, key) if isinstance(key, str) else tuple.__getitem__(self, key)


class DailyRow(NamedTuple):
    """A daily rollup row, in the column order `queries.daily_rollups` selects. Rows are
    read by position: an attribute of a SQLAlchemy row costs about 0.4 µs, ten times the
    unpacking, and at 100,000 servers there are 3 million rows."""

    server_id: int
    day: date | str  # a date, or its ISO text (as SQLite gives it; see `DayOrdinals`)
    protocol: str
    runs: int
    successes: int
    latency_median_ms: float | None
    download_median_bps: int | None
    upload_median_bps: int | None


class DayOrdinals(dict[date | str, int]):
    """A day's ordinal, from a date or its ISO text, each distinct text parsed once: the
    rows of a window hold a few dozen days between them."""

    def __missing__(self, key: date | str) -> int:
        day = date.fromisoformat(key) if isinstance(key, str) else key
        ordinal = self[key] = day.toordinal()
        return ordinal


def _stats_of(
    server: dict[str, Any],
    rows: Sequence[Sequence[Any]],
    uptime: float | None,
    daily: DailyFigures,
    protocols: ProtocolFigures,
    ordinals: DayOrdinals,
) -> dict[str, Any]:
    """One server's figures from its daily rollup rows (`DailyRow`s or any tuples in that
    order), which come ordered by day. Its daily medians go to `daily` and its
    per-protocol figures to `protocols`, the rest into the server's dict.

    The rows are taken apart into columns at once (this runs for every server, on about
    30 rows each). Most servers are measured on one protocol, one row a day: then each
    value is its own day's median, and the server's figures are its protocol's."""
    _, row_days, row_protocols, row_runs, row_successes, latencies, downloads, uploads = zip(
        *rows, strict=True
    )
    runs = sum(row_runs)
    download_median, latency_median = median(downloads), median(latencies)
    if len(set(row_days)) == len(row_days):
        day_ordinals = list(map(ordinals.__getitem__, row_days))
        daily_downloads, daily_latencies, daily_uploads = downloads, latencies, uploads
    else:
        day_ordinals, daily_downloads, daily_latencies, daily_uploads = [], [], [], []
        points_by_day = groupby(
            zip(row_days, downloads, latencies, uploads, strict=True), itemgetter(0)
        )
        for day, points in points_by_day:
            _, day_downloads, day_latencies, day_uploads = zip(*points, strict=True)
            day_ordinals.append(ordinals[day])
            daily_downloads.append(median(day_downloads))
            daily_latencies.append(median(day_latencies))
            daily_uploads.append(median(day_uploads))
    column = daily.columns[server["id"]]
    daily.add_days(column, day_ordinals, daily_downloads, daily_latencies, daily_uploads)
    if len(set(row_protocols)) == 1:
        protocols.set(row_protocols[0], column, runs, download_median, latency_median)
    else:
        by_protocol: dict[str, tuple[list[int], list[float | None], list[float | None]]] = {}
        for protocol, protocol_runs, download, latency in zip(
            row_protocols, row_runs, downloads, latencies, strict=True
        ):
            figures = by_protocol.setdefault(protocol, ([], [], []))
            figures[0].append(protocol_runs)
            figures[1].append(download)
            figures[2].append(latency)
        for name, (proto_runs, proto_downloads, proto_latencies) in by_protocol.items():
            protocols.set(
                name, column, sum(proto_runs), median(proto_downloads), median(proto_latencies)
            )
    slug = server_slug(server["hostname"])
    server.update(
        {
            "slug": slug,
            "url": f"/servers/{server['provider_slug']}/{slug}/",
            "runs": runs,
            "success_rate": sum(row_successes) / runs if runs else 0.0,
            "download_median_bps": download_median,
            "upload_median_bps": median(uploads),
            "latency_median_ms": latency_median,
            "first_day": date.fromordinal(day_ordinals[0]),
            "last_day": date.fromordinal(day_ordinals[-1]),
            "uptime_pct": uptime,
        }
    )
    return server


class Measured(NamedTuple):
    """What `server_stats` computes: the servers' own figures, and their daily and
    per-protocol figures held by column (see `DailyFigures`, `ProtocolFigures`)."""

    stats: list[dict[str, Any]]
    daily: DailyFigures
    protocols: ProtocolFigures


def server_stats(
    servers: Sequence[dict[str, Any]],
    daily_rows: Iterable[Sequence[Any]],
    uptimes: Mapping[int, float],
) -> Measured:
    """Per server: run counts, medians of its daily medians, first and last day and
    uptime in its dict; its daily series and per-protocol figures in the column stores.
    Servers without a measured day are left out of `stats`.

    `daily_rows` (`DailyRow`s, or any tuples in that column order) must come ordered by
    server, then day: they are consumed as a stream, one server at a time, so memory holds
    the statistics, never every row. Rows of servers not in `servers` (disabled, retired)
    are skipped. `uptimes` maps a server to its mean uptime. Each server's dict is
    completed in place, not copied (a copy of every server would be about 100 MB at
    100,000 servers).
    """
    by_id = {s["id"]: s for s in servers}
    daily = DailyFigures([s["id"] for s in servers])
    protocols = ProtocolFigures(daily.columns)
    stats: dict[int, dict[str, Any]] = {}
    ordinals = DayOrdinals()
    for server_id, rows in groupby(daily_rows, key=itemgetter(0)):
        server = by_id.get(server_id)
        if server is not None:
            stats[server_id] = _stats_of(
                server, list(rows), uptimes.get(server_id), daily, protocols, ordinals
            )
    daily.finish()
    return Measured([stats[s["id"]] for s in servers if s["id"] in stats], daily, protocols)


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


def summary(
    stats: Sequence[Mapping[str, Any]] | ProtocolServers, newest: date, gate: QualityGate
) -> dict[str, Any]:
    """Figures for a group of servers: sample size, window, medians, freshness; for
    `ProtocolServers`, by that protocol's runs and medians. Each figure is one pass at C
    speed (a `map` per field): groups reach 100,000 servers, and protocol pages summarise
    one per page."""
    if isinstance(stats, ProtocolServers):
        runs, downloads, latencies = stats.runs, stats.downloads, stats.latencies
        stats = stats.servers
    else:
        runs = list(map(itemgetter("runs"), stats))
        downloads = list(map(itemgetter("download_median_bps"), stats))
        latencies = list(map(itemgetter("latency_median_ms"), stats))
    total_runs = sum(runs)
    last_day = max(map(itemgetter("last_day"), stats), default=date.min)
    return {
        "servers": len(stats),
        "runs": total_runs,
        "first_day": min(map(itemgetter("first_day"), stats), default=date.max),
        "last_day": last_day,
        "stale": (newest - last_day) > timedelta(days=gate.stale_after_days),
        "download_median_bps": median(downloads),
        "upload_median_bps": median(map(itemgetter("upload_median_bps"), stats)),
        "latency_median_ms": median(latencies),
        # summed in order from 0.0, as a loop would: the same data gives the same bytes
        "success_rate": sum(map(mul, map(itemgetter("success_rate"), stats), runs), 0.0)
        / max(1, total_runs),
        "countries": len(set(map(itemgetter("country_code"), stats))),
        "providers": len(set(map(itemgetter("provider_slug"), stats))),
    }


class LatencyRankings(NamedTuple):
    """Per probe, the servers with the lowest latest latency (best protocol each), lowest
    first: over all servers (`top`) and per place (`places`: probe -> place -> ranking).
    A ranking exists only when at least the gate's minimum of servers were measured."""

    top: dict[str, list[ProbeRun]]
    places: dict[str, dict[str, list[ProbeRun]]]


def latency_rankings(
    runs: Iterable[ProbeRun],
    places_of: Mapping[int, Sequence[str]],
    *,
    min_servers: int,
    size: int,
) -> LatencyRankings:
    """Rankings from every server's latest runs, which must come ordered by probe (then
    server and protocol): one probe's runs are held at a time, and only the first `size`
    of each ranking are kept. `places_of` names the places of each listed server; runs of
    other servers are ignored."""
    top: dict[str, list[ProbeRun]] = {}
    places: dict[str, dict[str, list[ProbeRun]]] = {}
    for probe_id, probe_runs in groupby(runs, key=attrgetter("probe_id")):
        best: dict[int, ProbeRun] = {}
        for run in probe_runs:
            if run.connect_success and run.latency_ms is not None and run.server_id in places_of:
                current = best.get(run.server_id)
                if current is None or run.latency_ms < current.latency_ms:
                    best[run.server_id] = run  # the server's best protocol from this probe
        ranked = sorted(best.values(), key=lambda r: (r.latency_ms, r.server_id))
        if len(ranked) >= min_servers:
            top[probe_id] = ranked[:size]
        counts: Counter[str] = Counter()
        firsts: dict[str, list[ProbeRun]] = defaultdict(list)
        for run in ranked:
            for place in places_of[run.server_id]:
                counts[place] += 1
                if len(firsts[place]) < size:
                    firsts[place].append(run)
        places[probe_id] = {
            place: firsts[place] for place in sorted(firsts) if counts[place] >= min_servers
        }
    return LatencyRankings(top, places)
