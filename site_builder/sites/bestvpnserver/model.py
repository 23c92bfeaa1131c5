"""Pure page data for bestvpnserver: per-server statistics from the daily rollups, and
summaries over groups of servers. No I/O; the page kinds pass rows in."""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from itertools import groupby, repeat
from operator import attrgetter, itemgetter, mul
from typing import Any, NamedTuple, overload

import numpy
from slugify import slugify

from site_builder.config import QualityConfig

QualityGate = QualityConfig  # how much data a page needs (configured per site)


# From this many values on, the middle ones are found by numpy's selection, not by sorting
# a list: a group page's summary takes medians over up to every server, and Python sorts
# the figures (ints and floats mixed) at about 1 µs a value.
_SELECT_FROM = 64


def median(values: Iterable[float | int | None]) -> float | None:
    """The median of the values present (as `statistics.median`), None when there are none.
    Written out: it runs for every server, day and protocol, mostly on one or two values."""
    present = [v for v in values if v is not None]
    count = len(present)
    if count < 2:
        return present[0] if present else None
    half = count // 2
    if count >= _SELECT_FROM:
        # the middle values' places, so that they are returned as they are (an int stays
        # an int: pages show some figures as given)
        places = numpy.argpartition(numpy.array(present, dtype=numpy.float64), (half - 1, half))
        low, high = present[places[half - 1]], present[places[half]]
        return high if count % 2 else (low + high) / 2
    present.sort()
    return present[half] if count % 2 else (present[half - 1] + present[half]) / 2


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


class DailySeries(Sequence[tuple[date, float | None, float | None]]):
    """A server's (day, median download in bytes/s, median latency in ms) per measured day,
    held as two arrays of doubles (NaN for a missing value) and the days as offsets: it
    goes into a server page's context, so its input key pickles a few arrays, not a list
    of dates and floats."""

    __slots__ = ("_downloads", "_first", "_latencies", "_offsets")

    def __init__(self, points: Iterable[tuple[date, float | None, float | None]]) -> None:
        points = list(points)
        self._first = points[0][0].toordinal() if points else 0
        self._offsets = array("H", (day.toordinal() - self._first for day, _, _ in points))
        self._downloads = array("d", (math.nan if v is None else v for _, v, _ in points))
        self._latencies = array("d", (math.nan if v is None else v for _, _, v in points))

    @classmethod
    def from_arrays(
        cls, first: int, offsets: numpy.ndarray, downloads: numpy.ndarray, latencies: numpy.ndarray
    ) -> DailySeries:
        """A series from the ordinal of its first day, the days as offsets from it, and the
        medians with NaN for missing ones."""
        series = cls.__new__(cls)
        series._first = first
        series._offsets = array("H", offsets.astype(numpy.uint16).tobytes())
        series._downloads = array("d", downloads.astype(numpy.float64).tobytes())
        series._latencies = array("d", latencies.astype(numpy.float64).tobytes())
        return series

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
        # A list made by a comprehension, then iterated: a generator's round trip per day
        # was most of the cost, and a server page reads its series twice.
        first, day, isnan = self._first, date.fromordinal, math.isnan
        return iter(
            [
                (day(first + offset), None if isnan(down) else down, None if isnan(lat) else lat)
                for offset, down, lat in zip(
                    self._offsets, self._downloads, self._latencies, strict=True
                )
            ]
        )

    def downloads_mbit(self) -> list[tuple[date, float]]:
        """(day, median download in Mbit/s) for each day with a download median."""
        first, day, isnan = self._first, date.fromordinal, math.isnan
        return [
            (day(first + offset), down * 8 / 1e6)
            for offset, down in zip(self._offsets, self._downloads, strict=True)
            if not isnan(down)
        ]

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
        daily_downloads, daily_latencies = downloads, latencies
    else:
        day_ordinals, daily_downloads, daily_latencies = [], [], []
        points_by_day = groupby(zip(row_days, downloads, latencies, strict=True), itemgetter(0))
        for day, points in points_by_day:
            _, day_downloads, day_latencies = zip(*points, strict=True)
            day_ordinals.append(ordinals[day])
            daily_downloads.append(median(day_downloads))
            daily_latencies.append(median(day_latencies))
    column = daily.columns[server["id"]]
    daily.add_days(column, day_ordinals, daily_downloads, daily_latencies)
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


class DailyFigures:
    """Every listed server's daily medians, download (bytes/s) and latency (ms), as
    matrices with a row per day and a column per server (NaN where a figure is missing),
    and which days each server was measured on. A group page's chart is then a few array
    operations over its servers' columns, not a loop over their points (the protocol hub
    charts every server), and a server's series is a column: at 100,000 servers a series
    object per server took about 95 MB, these matrices about 50 MB per 30 days.

    Filled by `add`, a point at a time in any order of days, then `finish`; points wait in
    a small buffer and go into the matrices a block at a time, which grow as days appear.
    """

    def __init__(self, server_ids: Sequence[int]) -> None:
        self.columns = {server_id: column for column, server_id in enumerate(server_ids)}
        self.first = 0  # the ordinal of row 0
        self.downloads = numpy.full((0, len(server_ids)), numpy.nan)
        self.latencies = self.downloads.copy()
        self.measured = numpy.zeros(self.downloads.shape, dtype=bool)
        self._pending: tuple[array[int], array[int], array[float], array[float]] = (
            array("q"),
            array("q"),
            array("d"),
            array("d"),
        )

    def add(self, column: int, day: date, download: float | None, latency: float | None) -> None:
        """A server's (by column) medians of one day on which it was measured."""
        self.add_days(column, [day.toordinal()], [download], [latency])

    def add_days(
        self,
        column: int,
        ordinals: Sequence[int],
        downloads: Sequence[float | None],
        latencies: Sequence[float | None],
    ) -> None:
        """A server's medians of several days (as ordinals) on which it was measured."""
        days, columns, pending_downloads, pending_latencies = self._pending
        days.extend(ordinals)
        columns.extend(repeat(column, len(ordinals)))
        nan = math.nan
        pending_downloads.extend([nan if value is None else value for value in downloads])
        pending_latencies.extend([nan if value is None else value for value in latencies])
        if len(days) >= _POINTS_PER_BLOCK:
            self._flush()

    def finish(self) -> None:
        self._flush()

    def _flush(self) -> None:
        days, columns, downloads, latencies = (
            numpy.frombuffer(values, dtype=dtype) if len(values) else numpy.empty(0, dtype)
            for values, dtype in zip(
                self._pending, (numpy.int64, numpy.int64, numpy.float64, numpy.float64), strict=True
            )
        )
        if not len(days):
            return
        self._cover(int(days.min()), int(days.max()))
        rows = days - self.first
        self.downloads[rows, columns] = downloads
        self.latencies[rows, columns] = latencies
        self.measured[rows, columns] = True
        del days, columns, downloads, latencies  # the buffers' memory, before they are cleared
        self._pending = (array("q"), array("q"), array("d"), array("d"))

    def _cover(self, first: int, last: int) -> None:
        """Grow the matrices to hold the days `first` to `last` (ordinals)."""
        rows = len(self.measured)
        if rows and self.first <= first and last < self.first + rows:
            return
        new_first = min(first, self.first) if rows else first
        new_rows = max(last + 1, self.first + rows) - new_first
        offset = self.first - new_first
        for name, fill in (("downloads", numpy.nan), ("latencies", numpy.nan), ("measured", False)):
            old = getattr(self, name)
            grown = numpy.full((new_rows, old.shape[1]), fill, dtype=old.dtype)
            grown[offset : offset + rows] = old
            setattr(self, name, grown)
        self.first = new_first

    def series(self, server_id: int) -> DailySeries:
        """A server's (day, median download, median latency) per measured day."""
        column = self.columns[server_id]
        rows = numpy.flatnonzero(self.measured[:, column])
        return DailySeries.from_arrays(
            self.first + int(rows[0]) if len(rows) else 0,
            rows - (rows[0] if len(rows) else 0),
            self.downloads[rows, column],
            self.latencies[rows, column],
        )

    def medians(self, server_ids: Iterable[int]) -> list[tuple[date, float]]:
        """Per day with any figure, the median over these servers of their daily median
        download (bytes/s), computed as `statistics.median` does: the middle value, or the
        mean of the two middle values."""
        columns = numpy.fromiter((self.columns[i] for i in server_ids), dtype=numpy.intp)
        values = self.downloads[:, columns]
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


# Points buffered before they go into the matrices: 32 bytes each.
_POINTS_PER_BLOCK = 100_000


class ProtocolFigures:
    """Every listed server's runs and medians per protocol, an array per protocol and
    figure indexed by server column (runs -1 where the server was not measured over it).
    A dict of dicts per server took about 1.3 KB each, 135 MB at 100,000 servers."""

    def __init__(self, columns: Mapping[int, int]) -> None:
        self.columns = columns
        self._runs: dict[str, array[int]] = {}
        self._downloads: dict[str, _Numbers] = {}
        self._latencies: dict[str, _Numbers] = {}

    def set(
        self, protocol: str, column: int, runs: int, download: float | None, latency: float | None
    ) -> None:
        if protocol not in self._runs:
            size = len(self.columns)
            self._runs[protocol] = array("q", [-1]) * size
            self._downloads[protocol] = _Numbers(size)
            self._latencies[protocol] = _Numbers(size)
        self._runs[protocol][column] = runs
        self._downloads[protocol].set(column, download)
        self._latencies[protocol].set(column, latency)

    def _figures(self, protocol: str, column: int) -> dict[str, Any]:
        return {
            "runs": self._runs[protocol][column],
            "download_median_bps": self._downloads[protocol].get(column),
            "latency_median_ms": self._latencies[protocol].get(column),
        }

    def of(self, server_id: int) -> dict[str, dict[str, Any]]:
        """A server's figures per protocol it was measured over, by protocol name."""
        column = self.columns[server_id]
        return {
            protocol: self._figures(protocol, column)
            for protocol in sorted(self._runs)
            if self._runs[protocol][column] >= 0
        }

    def count(self, protocol: str, stats: Iterable[Mapping[str, Any]]) -> int:
        """How many of these servers were measured over the protocol."""
        runs = self._runs.get(protocol)
        if runs is None:
            return 0
        return sum(runs[self.columns[s["id"]]] >= 0 for s in stats)

    def over(self, protocol: str, stats: Iterable[Mapping[str, Any]]) -> ProtocolServers:
        """The servers among `stats` measured over the protocol, with that protocol's runs
        and medians beside them."""
        runs = self._runs.get(protocol)
        if runs is None:
            return ProtocolServers([], [], [], [])
        servers, columns = [], []
        for s in stats:
            column = self.columns[s["id"]]
            if runs[column] >= 0:
                servers.append(s)
                columns.append(column)
        return ProtocolServers(
            servers,
            [runs[column] for column in columns],
            self._downloads[protocol].take(columns),
            self._latencies[protocol].take(columns),
        )


class ProtocolServers(NamedTuple):
    """Servers measured over one protocol and, in the same order, their runs and medians
    over it: columns, so a protocol page summarises and ranks its servers without an
    object per server; `view` reads one server as it was measured over the protocol."""

    servers: list[Mapping[str, Any]]
    runs: list[int]
    downloads: list[float | None]
    latencies: list[float | None]

    def view(self, index: int) -> dict[str, Any]:
        """One server as it was measured over the protocol: its own fields, with the
        protocol's runs and medians in place of its overall ones. A copy (a plain dict,
        read at C speed by the page code and templates): pages make one only for the
        servers they show."""
        return {
            **self.servers[index],
            "runs": self.runs[index],
            "download_median_bps": self.downloads[index],
            "latency_median_ms": self.latencies[index],
        }


class _Numbers:
    """A column of numbers that may be None, held as doubles, remembering which were ints:
    a median of integer downloads is an int or a float, and pages print either as it is."""

    __slots__ = ("_kinds", "_values")
    _NONE, _INT, _FLOAT = 0, 1, 2

    def __init__(self, size: int) -> None:
        self._values = array("d", [0.0]) * size
        self._kinds = bytearray(size)

    def set(self, index: int, value: float | None) -> None:
        if value is None:
            self._kinds[index] = self._NONE
        else:
            self._values[index] = value
            self._kinds[index] = self._INT if isinstance(value, int) else self._FLOAT

    def get(self, index: int) -> float | None:
        kind = self._kinds[index]
        if kind == self._NONE:
            return None
        value = self._values[index]
        return int(value) if kind == self._INT else value

    def take(self, indexes: Iterable[int]) -> list[float | None]:
        """`get` of each index, inline: it runs for every server of every protocol page."""
        values, kinds, none, integer = self._values, self._kinds, self._NONE, self._INT
        return [
            None if kinds[i] == none else int(values[i]) if kinds[i] == integer else values[i]
            for i in indexes
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
