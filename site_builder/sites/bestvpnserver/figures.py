"""Numbers over many values, kept compact: medians (numpy selection for large groups), a
server's daily series and figures, and per-protocol figures of a server or a group of servers.
Pure: no I/O."""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from itertools import repeat
from typing import Any, NamedTuple, overload

import numpy

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


class DailySeries(Sequence[tuple[date, float | None, float | None]]):
    """A server's (day, median download in bytes/s, median latency in ms) per measured day,
    held as arrays of doubles (NaN for a missing value) and the days as offsets: it goes
    into a server page's context, so its input key pickles a few arrays, not a list of
    dates and floats. The median upload of each day is held beside them (`uploads_mbit`,
    `rows`); iterating gives the (day, download, latency) triples, as before uploads."""

    __slots__ = ("_downloads", "_first", "_latencies", "_offsets", "_uploads")

    def __init__(
        self,
        points: Iterable[tuple[date, float | None, float | None]],
        uploads: Iterable[float | None] | None = None,
    ) -> None:
        points = list(points)
        self._first = points[0][0].toordinal() if points else 0
        self._offsets = array("H", (day.toordinal() - self._first for day, _, _ in points))
        self._downloads = array("d", (math.nan if v is None else v for _, v, _ in points))
        self._latencies = array("d", (math.nan if v is None else v for _, _, v in points))
        given = list(uploads) if uploads is not None else [None] * len(points)
        self._uploads = array("d", (math.nan if v is None else v for v in given))

    @classmethod
    def from_arrays(
        cls,
        first: int,
        offsets: numpy.ndarray,
        downloads: numpy.ndarray,
        latencies: numpy.ndarray,
        uploads: numpy.ndarray,
    ) -> DailySeries:
        """A series from the ordinal of its first day, the days as offsets from it, and the
        medians with NaN for missing ones."""
        series = cls.__new__(cls)
        series._first = first
        series._offsets = array("H", offsets.astype(numpy.uint16).tobytes())
        series._downloads = array("d", downloads.astype(numpy.float64).tobytes())
        series._latencies = array("d", latencies.astype(numpy.float64).tobytes())
        series._uploads = array("d", uploads.astype(numpy.float64).tobytes())
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

    def uploads_mbit(self) -> list[tuple[date, float]]:
        """(day, median upload in Mbit/s) for each day with an upload median."""
        first, day, isnan = self._first, date.fromordinal, math.isnan
        return [
            (day(first + offset), up * 8 / 1e6)
            for offset, up in zip(self._offsets, self._uploads, strict=True)
            if not isnan(up)
        ]

    def rows(self) -> list[tuple[date, float | None, float | None, float | None]]:
        """(day, median download, median upload, median latency) per measured day: the
        numbers behind a server page's charts."""
        first, day, isnan = self._first, date.fromordinal, math.isnan
        return [
            (
                day(first + offset),
                None if isnan(down) else down,
                None if isnan(up) else up,
                None if isnan(lat) else lat,
            )
            for offset, down, up, lat in zip(
                self._offsets, self._downloads, self._uploads, self._latencies, strict=True
            )
        ]

    def latencies_ms(self) -> list[tuple[date, float]]:
        """(day, median latency in ms) for each day with a latency median."""
        first, day, isnan = self._first, date.fromordinal, math.isnan
        return [
            (day(first + offset), latency)
            for offset, latency in zip(self._offsets, self._latencies, strict=True)
            if not isnan(latency)
        ]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, like the list it replaces

    def __getstate__(self) -> tuple[Any, ...]:
        return (self._first, self._offsets, self._downloads, self._latencies, self._uploads)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self._first, self._offsets, self._downloads, self._latencies, self._uploads = state


class DailyFigures:
    """Every listed server's daily medians, download and upload (bytes/s) and latency (ms), as
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
        self.uploads = self.downloads.copy()
        self.measured = numpy.zeros(self.downloads.shape, dtype=bool)
        self._pending = _no_points()

    def add(
        self,
        column: int,
        day: date,
        download: float | None,
        latency: float | None,
        upload: float | None = None,
    ) -> None:
        """A server's (by column) medians of one day on which it was measured."""
        self.add_days(column, [day.toordinal()], [download], [latency], [upload])

    def add_days(
        self,
        column: int,
        ordinals: Sequence[int],
        downloads: Sequence[float | None],
        latencies: Sequence[float | None],
        uploads: Sequence[float | None] | None = None,
    ) -> None:
        """A server's medians of several days (as ordinals) on which it was measured."""
        days, columns, pending_downloads, pending_latencies, pending_uploads = self._pending
        days.extend(ordinals)
        columns.extend(repeat(column, len(ordinals)))
        nan = math.nan
        pending_downloads.extend([nan if value is None else value for value in downloads])
        pending_latencies.extend([nan if value is None else value for value in latencies])
        if uploads is None:
            pending_uploads.extend(repeat(nan, len(ordinals)))
        else:
            pending_uploads.extend([nan if value is None else value for value in uploads])
        if len(days) >= _POINTS_PER_BLOCK:
            self._flush()

    def finish(self) -> None:
        self._flush()

    def _flush(self) -> None:
        days, columns, downloads, latencies, uploads = (
            numpy.frombuffer(values, dtype=dtype) if len(values) else numpy.empty(0, dtype)
            for values, dtype in zip(
                self._pending,
                (numpy.int64, numpy.int64, numpy.float64, numpy.float64, numpy.float64),
                strict=True,
            )
        )
        if not len(days):
            return
        self._cover(int(days.min()), int(days.max()))
        rows = days - self.first
        self.downloads[rows, columns] = downloads
        self.latencies[rows, columns] = latencies
        self.uploads[rows, columns] = uploads
        self.measured[rows, columns] = True
        # the buffers' memory, before they are cleared
        del days, columns, downloads, latencies, uploads
        self._pending = _no_points()

    def _cover(self, first: int, last: int) -> None:
        """Grow the matrices to hold the days `first` to `last` (ordinals)."""
        rows = len(self.measured)
        if rows and self.first <= first and last < self.first + rows:
            return
        new_first = min(first, self.first) if rows else first
        new_rows = max(last + 1, self.first + rows) - new_first
        offset = self.first - new_first
        for name, fill in (
            ("downloads", numpy.nan),
            ("latencies", numpy.nan),
            ("uploads", numpy.nan),
            ("measured", False),
        ):
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
            self.uploads[rows, column],
        )

    def medians(
        self, server_ids: Iterable[int], figure: str = "downloads"
    ) -> list[tuple[date, float]]:
        """Per day with any figure, the median over these servers of their daily median
        `figure` ("downloads" or "uploads" in bytes/s, "latencies" in ms), computed as
        `statistics.median` does: the middle value, or the mean of the two middle values."""
        if figure not in _FIGURES:
            raise ValueError(f"no daily figure {figure!r} (one of {', '.join(_FIGURES)})")
        columns = numpy.fromiter((self.columns[i] for i in server_ids), dtype=numpy.intp)
        values = getattr(self, figure)[:, columns]
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


# Points buffered before they go into the matrices: 40 bytes each.
_POINTS_PER_BLOCK = 100_000

_FIGURES = ("downloads", "uploads", "latencies")  # the matrices `DailyFigures.medians` reads


def _no_points() -> tuple[array[int], array[int], array[float], array[float], array[float]]:
    """Empty buffers of days, columns, downloads, latencies and uploads."""
    return (array("q"), array("q"), array("d"), array("d"), array("d"))


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
