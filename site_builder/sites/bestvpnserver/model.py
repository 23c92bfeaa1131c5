"""Pure page data for bestvpnserver: per-server statistics from the daily rollups, and
summaries over groups of servers. No I/O; the page kinds pass rows in."""

from __future__ import annotations

import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from itertools import groupby
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple, overload

import numpy
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

    @property
    def first(self) -> int:
        """The ordinal of the first day."""
        return self._first

    def download_points(self) -> tuple[numpy.ndarray, numpy.ndarray]:
        """(days since the first, downloads with NaN for missing) as arrays over this
        series' own memory, for code that aggregates many series."""
        return (
            numpy.frombuffer(self._offsets, dtype=numpy.uint16).astype(numpy.intp),
            numpy.frombuffer(self._downloads, dtype=numpy.float64),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, like the list it replaces

    def __getstate__(self) -> tuple[Any, ...]:
        return (self._first, self._offsets, self._downloads, self._latencies)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self._first, self._offsets, self._downloads, self._latencies = state


class DailyRow(NamedTuple):
    """A daily rollup row, in the column order `queries.daily_rollups` selects. Rows are
    read by position: an attribute of a SQLAlchemy row costs about 0.4 µs, ten times the
    unpacking, and at 100,000 servers there are 3 million rows."""

    server_id: int
    day: date
    protocol: str
    runs: int
    successes: int
    latency_median_ms: float | None
    download_median_bps: int | None
    upload_median_bps: int | None


def _stats_of(
    server: dict[str, Any], rows: Sequence[Sequence[Any]], uptime: float | None
) -> dict[str, Any]:
    """One server's figures from its daily rollup rows (`DailyRow`s or any tuples in that
    order), which come ordered by day: one pass over them."""
    runs = successes = 0
    downloads: list[float | None] = []
    uploads: list[float | None] = []
    latencies: list[float | None] = []
    series: list[tuple[date, float | None, float | None]] = []
    day = rows[0][1]
    day_downloads: list[float | None] = []
    day_latencies: list[float | None] = []
    protocols: dict[str, tuple[list[int], list[float | None], list[float | None]]] = {}
    for _, row_day, protocol, row_runs, row_successes, latency, download, upload in rows:
        runs += row_runs
        successes += row_successes
        downloads.append(download)
        uploads.append(upload)
        latencies.append(latency)
        if row_day != day:
            series.append((day, median(day_downloads), median(day_latencies)))
            day, day_downloads, day_latencies = row_day, [], []
        day_downloads.append(download)
        day_latencies.append(latency)
        figures = protocols.get(protocol)
        if figures is None:
            figures = protocols[protocol] = ([], [], [])
        figures[0].append(row_runs)
        figures[1].append(download)
        figures[2].append(latency)
    series.append((day, median(day_downloads), median(day_latencies)))
    slug = server_slug(server["hostname"])
    server.update(
        {
            "slug": slug,
            "url": f"/servers/{server['provider_slug']}/{slug}/",
            "runs": runs,
            "success_rate": successes / runs if runs else 0.0,
            "download_median_bps": median(downloads),
            "upload_median_bps": median(uploads),
            "latency_median_ms": median(latencies),
            "first_day": series[0][0],
            "last_day": series[-1][0],
            "series": DailySeries(series),
            "protocols": {
                name: {
                    "runs": sum(proto_runs),
                    "download_median_bps": median(proto_downloads),
                    "latency_median_ms": median(proto_latencies),
                }
                for name, (proto_runs, proto_downloads, proto_latencies) in sorted(
                    protocols.items()
                )
            },
            "uptime_pct": uptime,
        }
    )
    return server


def server_stats(
    servers: Sequence[dict[str, Any]],
    daily_rows: Iterable[Sequence[Any]],
    uptimes: Mapping[int, float],
) -> list[dict[str, Any]]:
    """Per server: run counts, medians of its daily medians, a daily series, per-protocol
    figures and uptime. Servers without a measured day are left out.

    `daily_rows` (`DailyRow`s, or any tuples in that column order) must come ordered by
    server, then day: they are consumed as a stream, one server at a time, so memory holds
    the statistics, never every row. Rows of servers not in `servers` (disabled, retired)
    are skipped. `uptimes` maps a server to its mean uptime. Each server's dict is
    completed in place, not copied (a copy of every server would be about 100 MB at
    100,000 servers).
    """
    by_id = {s["id"]: s for s in servers}
    stats: dict[int, dict[str, Any]] = {}
    for server_id, rows in groupby(daily_rows, key=itemgetter(0)):
        server = by_id.get(server_id)
        if server is not None:
            stats[server_id] = _stats_of(server, list(rows), uptimes.get(server_id))
    return [stats[s["id"]] for s in servers if s["id"] in stats]


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


def summary(stats: Sequence[Mapping[str, Any]], newest: date, gate: QualityGate) -> dict[str, Any]:
    """Figures for a group of servers: sample size, window, medians, freshness. One pass:
    groups reach 100,000 servers."""
    runs = 0
    weighted_success = 0.0
    first_day, last_day = date.max, date.min
    downloads, uploads, latencies = [], [], []
    countries, providers = set(), set()
    for s in stats:
        server_runs = s["runs"]
        runs += server_runs
        weighted_success += s["success_rate"] * server_runs
        first_day = min(first_day, s["first_day"])
        last_day = max(last_day, s["last_day"])
        downloads.append(s["download_median_bps"])
        uploads.append(s["upload_median_bps"])
        latencies.append(s["latency_median_ms"])
        countries.add(s["country_code"])
        providers.add(s["provider_slug"])
    return {
        "servers": len(stats),
        "runs": runs,
        "first_day": first_day,
        "last_day": last_day,
        "stale": (newest - last_day) > timedelta(days=gate.stale_after_days),
        "download_median_bps": median(downloads),
        "upload_median_bps": median(uploads),
        "latency_median_ms": median(latencies),
        "success_rate": weighted_success / max(1, runs),
        "countries": len(countries),
        "providers": len(providers),
    }


class DailyDownloads:
    """Every listed server's daily median download as one matrix, a row per day and a
    column per server (NaN where a server has no figure that day): a group page's chart is
    then a few array operations over its servers' columns, not a loop over their points
    (the protocol hub charts 100,000 servers at 100,000 servers)."""

    def __init__(self, stats: Sequence[Mapping[str, Any]]) -> None:
        self.first = min((s["first_day"] for s in stats), default=date.min).toordinal()
        last = max((s["last_day"] for s in stats), default=date.min).toordinal()
        self.columns = {s["id"]: column for column, s in enumerate(stats)}
        self.matrix = numpy.full((last - self.first + 1, len(stats)), numpy.nan)
        for column, s in enumerate(stats):
            rows, downloads = s["series"].download_points()
            self.matrix[rows + (s["series"].first - self.first), column] = downloads

    def medians(self, server_ids: Iterable[int]) -> list[tuple[date, float]]:
        """Per day with any figure, the median over these servers of their daily median
        download (bytes/s), computed as `statistics.median` does: the middle value, or the
        mean of the two middle values."""
        columns = numpy.fromiter((self.columns[i] for i in server_ids), dtype=numpy.intp)
        values = self.matrix[:, columns]
        counts = numpy.count_nonzero(~numpy.isnan(values), axis=1)
        days = numpy.flatnonzero(counts)
        ordered = numpy.sort(values[days], axis=1)  # NaN sorts last
        counts = counts[days]
        row = numpy.arange(len(days))
        middle = (ordered[row, (counts - 1) // 2] + ordered[row, counts // 2]) / 2
        return [
            (date.fromordinal(self.first + int(day)), float(value))
            for day, value in zip(days, middle, strict=True)
        ]


class ProtocolView(dict[str, Any]):
    """A server read over one protocol: that protocol's runs and medians, and the server's
    own fields for every other key. A view, not a copy, as protocol pages read every server
    once per protocol; misses go to the server without raising (unlike ChainMap), which
    matters when summarising 100,000 of them."""

    __slots__ = ("server",)

    def __init__(self, figures: Mapping[str, Any], server: Mapping[str, Any]) -> None:
        super().__init__(figures)
        self.server = server

    def __missing__(self, key: str) -> Any:
        return self.server[key]


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
