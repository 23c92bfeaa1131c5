"""Pure page data for bestvpnserver: per-server statistics from the daily rollups, and
summaries over groups of servers. No I/O; the page kinds pass rows in."""

from __future__ import annotations

import math
import statistics
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from itertools import groupby
from operator import attrgetter
from typing import Any, NamedTuple, overload

from slugify import slugify

from site_builder.config import QualityConfig

QualityGate = QualityConfig  # how much data a page needs (configured per site)


def median(values: Iterable[float | int | None]) -> float | None:
    """The median of the values present (as `statistics.median`), None when there are none.
    Written out: it runs for every server, day and protocol, mostly on one or two values."""
    present = [v for v in values if v is not None]
    count = len(present)
    if count < 2:
        return present[0] if present else None
    present.sort()
    half = count // 2
    return present[half] if count % 2 else (present[half - 1] + present[half]) / 2


def server_slug(hostname: str) -> str:
    return slugify(hostname, max_length=120) or "server"


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


class DailySeries(Sequence[tuple[date, float | None, float | None]]):
    """A server's (day, median download in bytes/s, median latency in ms) per measured day,
    held as two arrays of doubles (NaN for a missing value) and the days as offsets: about
    a sixth of the memory of a list of tuples, which matters with every server's series
    in memory for the group pages' charts."""

    __slots__ = ("_downloads", "_first", "_latencies", "_offsets")

    def __init__(self, points: Iterable[tuple[date, float | None, float | None]]) -> None:
        points = list(points)
        self._first = points[0][0].toordinal() if points else 0
        self._offsets = array("H", (day.toordinal() - self._first for day, _, _ in points))
        self._downloads = array("d", (math.nan if v is None else v for _, v, _ in points))
        self._latencies = array("d", (math.nan if v is None else v for _, _, v in points))

    def __len__(self) -> int:
        return len(self._offsets)

    @overload
    def __getitem__(self, index: int) -> tuple[date, float | None, float | None]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[date, float | None, float | None]]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        download, latency = self._downloads[index], self._latencies[index]
        return (
            date.fromordinal(self._first + self._offsets[index]),
            None if math.isnan(download) else download,
            None if math.isnan(latency) else latency,
        )

    def __iter__(self) -> Iterator[tuple[date, float | None, float | None]]:
        for offset, download, latency in zip(
            self._offsets, self._downloads, self._latencies, strict=True
        ):
            yield (
                date.fromordinal(self._first + offset),
                None if math.isnan(download) else download,
                None if math.isnan(latency) else latency,
            )

    def by_ordinal(self) -> Iterator[tuple[int, float, float]]:
        """(day ordinal, download, latency) with NaN for a missing value: the raw points,
        for code that aggregates many series and needs no date objects."""
        first = self._first
        for offset, download, latency in zip(
            self._offsets, self._downloads, self._latencies, strict=True
        ):
            yield first + offset, download, latency

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, like the list it replaces

    def __getstate__(self) -> tuple[Any, ...]:
        return (self._first, self._offsets, self._downloads, self._latencies)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self._first, self._offsets, self._downloads, self._latencies = state


def _stats_of(server: dict[str, Any], rows: list[Any], uptime: float | None) -> dict[str, Any]:
    days: dict[date, list[Any]] = defaultdict(list)
    protocols: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        days[row.day].append(row)
        protocols[row.protocol].append(row)
    runs = sum(r.runs for r in rows)
    successes = sum(r.successes for r in rows)
    slug = server_slug(server["hostname"])
    server.update(
        {
            "slug": slug,
            "url": f"/servers/{server['provider_slug']}/{slug}/",
            "runs": runs,
            "success_rate": successes / runs if runs else 0.0,
            "download_median_bps": median(r.download_median_bps for r in rows),
            "upload_median_bps": median(r.upload_median_bps for r in rows),
            "latency_median_ms": median(r.latency_median_ms for r in rows),
            "first_day": min(days),
            "last_day": max(days),
            "series": DailySeries(
                (
                    day,
                    median(r.download_median_bps for r in day_rows),
                    median(r.latency_median_ms for r in day_rows),
                )
                for day, day_rows in sorted(days.items())
            ),
            "protocols": {
                name: {
                    "runs": sum(r.runs for r in proto_rows),
                    "download_median_bps": median(r.download_median_bps for r in proto_rows),
                    "latency_median_ms": median(r.latency_median_ms for r in proto_rows),
                }
                for name, proto_rows in sorted(protocols.items())
            },
            "uptime_pct": uptime,
        }
    )
    return server


def server_stats(
    servers: Sequence[dict[str, Any]],
    daily_rows: Iterable[Any],
    uptimes: Mapping[int, float],
) -> list[dict[str, Any]]:
    """Per server: run counts, medians of its daily medians, a daily series, per-protocol
    figures and uptime. Servers without a measured day are left out.

    `daily_rows` (attributes server_id, day, protocol, runs, successes and the medians)
    must come ordered by server: they are consumed as a stream, one server at a time, so
    memory holds the statistics, never every row. `uptimes` maps a server to its mean
    uptime. Each server's dict is completed in place, not copied (a copy of every server
    would be about 100 MB at 100,000 servers).
    """
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
    uptimes: Mapping[int, float],
) -> None:
    server = by_id.get(rows[0].server_id)
    if server is not None:  # rows of an unlisted (disabled, retired) server are skipped
        stats[server["id"]] = _stats_of(server, rows, uptimes.get(server["id"]))


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
    downloads: dict[int, list[float]] = defaultdict(list)  # by day ordinal
    latencies: dict[int, list[float]] = defaultdict(list)
    for s in stats:
        for day, download, latency in s["series"].by_ordinal():
            if download == download:  # not NaN
                downloads[day].append(download)
            if latency == latency:
                latencies[day].append(latency)
    return [
        (date.fromordinal(day), statistics.median(values), median(latencies.get(day, [])))
        for day, values in sorted(downloads.items())
    ]


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
