"""A validated batch as flat rows for the store. Pure functions; they run in worker processes.

Records name their server by (provider, hostname), not by id: ids belong to the store, so
the store resolves them (on PostgreSQL with a join, in SQL). For PostgreSQL the rows are
encoded here as COPY text, one compact bytes object per table, which is cheap to hand back
from a worker process; for SQLite they stay tuples.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from slugify import slugify

from site_builder.pull.measurements.batch import ParsedBatch
from site_builder.pull.measurements.records import Measurement, ServerRef

SERVER_COLUMNS = (
    "provider_slug",
    "provider_name",
    "hostname",
    "ip",
    "country_code",
    "city",
    "city_slug",
    "seen_at",
)
MEASUREMENT_COLUMNS = (
    "id",
    "started_at",
    "provider_slug",
    "hostname",
    "protocol",
    "connect_success",
    "error",
    "latency_ms",
    "jitter_ms",
    "latency_samples_ms",
    "packet_loss",
    "download_bytes",
    "download_ms",
    "download_bps",
    "upload_bytes",
    "upload_ms",
    "upload_bps",
)
# Measurement rows as PostgreSQL takes them straight into vpn_measurements (see
# measurement_copy_blocks and with_server_ids).
MEASUREMENT_COPY_COLUMNS = (
    "server_id",
    "batch_sha256",
    "probe_id",
    *(c for c in MEASUREMENT_COLUMNS if c not in ("provider_slug", "hostname")),
)
STREAMING_COLUMNS = (
    "id",
    "checked_at",
    "provider_slug",
    "hostname",
    "platform",
    "region",
    "status",
)
HEARTBEAT_COLUMNS = (
    "provider_slug",
    "hostname",
    "at",
    "cpu_pct",
    "ram_pct",
    "net_pct",
    "services",
)

Rows = list[tuple[Any, ...]] | bytes  # tuples, or the same rows as PostgreSQL COPY text
MeasurementRows = list[tuple[Any, ...]] | list[bytes]  # tuples, or measurement_copy_blocks


@dataclass
class BatchRows:
    """Everything the store needs from one batch, without the pydantic records."""

    name: str
    sha256: str
    probe: str | None  # None in an agent's batch
    servers: list[tuple[Any, ...]]
    measurements: MeasurementRows
    streaming_checks: Rows
    heartbeats: Rows
    counts: dict[str, int]
    server_protocols: set[tuple[int, str]] = field(default_factory=set)  # (server index, protocol)
    hours: set[datetime] = field(default_factory=set)  # hours the measurements fall in
    months: set[datetime] = field(default_factory=set)  # months any record falls in
    first_record_at: datetime | None = None
    last_record_at: datetime | None = None
    agent: str | None = None  # the agent whose batch it is

    @property
    def record_count(self) -> int:
        return sum(self.counts.values())


def server_key(ref: ServerRef) -> tuple[str, str]:
    return (ref.provider, ref.hostname.lower())


def latency_figures(m: Measurement) -> tuple[float | None, float | None, list[float] | None]:
    """(median, jitter, samples): jitter is the mean gap between consecutive samples."""
    latency = m.latency
    if latency is None:
        return None, None, None
    samples = latency.samples_ms
    if not samples:
        return latency.median_ms, latency.jitter_ms, None
    # plain float arithmetic: statistics.mean goes through Fractions, 20x slower here
    gaps = [abs(a - b) for a, b in itertools.pairwise(samples)]
    return statistics.median(samples), (sum(gaps) / len(gaps) if gaps else 0.0), samples


def _servers(batch: ParsedBatch) -> list[tuple[Any, ...]]:
    """Each server the batch mentions, as its latest report describes it, with that time."""
    latest: dict[tuple[str, str], tuple[ServerRef, datetime]] = {}
    reports: itertools.chain[tuple[ServerRef, datetime]] = itertools.chain(
        ((m.server, m.started_at) for m in batch.measurements),
        ((c.server, c.checked_at) for c in batch.streaming_checks),
        ((h.server, h.at) for h in batch.heartbeats),
    )
    for ref, moment in reports:
        key = server_key(ref)
        known = latest.get(key)
        if known is None or known[1] < moment:
            latest[key] = (ref, moment)
    return [
        (
            provider,
            ref.provider_name or provider,
            hostname,
            ref.ip,
            ref.country,
            ref.city,
            city_slug(ref.city) if ref.city else None,
            seen,
        )
        for (provider, hostname), (ref, seen) in sorted(latest.items())
    ]


@lru_cache(maxsize=4096)
def city_slug(name: str) -> str:
    return slugify(name)


def _measurement(m: Measurement) -> tuple[Any, ...]:
    median, jitter, samples = latency_figures(m)
    down, up = m.download, m.upload
    return (
        m.id,
        m.started_at,
        m.server.provider,
        m.server.hostname.lower(),
        m.protocol,
        m.connect.success,
        m.connect.error,
        median,
        jitter,
        samples,
        m.packet_loss,
        down.bytes if down else None,
        down.duration_ms if down else None,
        down.bytes_per_s if down else None,
        up.bytes if up else None,
        up.duration_ms if up else None,
        up.bytes_per_s if up else None,
    )


def batch_rows(batch: ParsedBatch, name: str, *, as_copy: bool) -> BatchRows:
    measurements = [_measurement(m) for m in batch.measurements]
    checks = [
        (
            c.id,
            c.checked_at,
            c.server.provider,
            c.server.hostname.lower(),
            c.platform,
            c.region,
            c.status,
        )
        for c in batch.streaming_checks
    ]
    beats = [
        (
            h.server.provider,
            h.server.hostname.lower(),
            h.at,
            h.cpu_pct,
            h.ram_pct,
            h.net_pct,
            h.services,
        )
        for h in batch.heartbeats
    ]
    moments = [  # records are in UTC already (see records.Timestamp)
        *(row[1] for row in measurements),
        *(row[1] for row in checks),
        *(row[2] for row in beats),
    ]
    encode = copy_text if as_copy else _as_is
    hours = {row[1].replace(minute=0, second=0, microsecond=0) for row in measurements}
    servers = _servers(batch)
    index = {(server[0], server[2]): number for number, server in enumerate(servers)}
    return BatchRows(
        name=name,
        sha256=batch.sha256,
        probe=batch.header.probe,
        agent=batch.header.agent,
        servers=servers,
        measurements=(
            measurement_copy_blocks(measurements, index, batch.sha256, batch.header.probe or "")
            if as_copy
            else measurements
        ),
        streaming_checks=encode(checks),
        heartbeats=encode(beats),
        counts={
            "measurements": len(measurements),
            "streaming_checks": len(checks),
            "heartbeats": len(beats),
        },
        server_protocols={(index[(row[2], row[3])], row[4]) for row in measurements},
        hours=hours,
        months={
            _month(moment)
            for moment in [*hours, *(row[1] for row in checks), *(row[2] for row in beats)]
        },
        first_record_at=min(moments, default=None),
        last_record_at=max(moments, default=None),
    )


def _as_is(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return rows


def _month(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


# ----------------------------------------------------------------- PostgreSQL COPY text format

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):  # latency samples: floats, so their repr is JSON
        return "[" + ",".join(map(repr, value)) + "]"
    if isinstance(value, dict):  # heartbeat services: validated names and booleans
        return _json_object(value).translate(_ESCAPES)
    return repr(value)


def _json_object(value: dict[str, bool]) -> str:
    return "{" + ",".join(f'"{k}":{"true" if v else "false"}' for k, v in value.items()) + "}"


def copy_text(rows: Sequence[tuple[Any, ...]]) -> bytes:
    """Rows in PostgreSQL's COPY text format (tab-separated, \\N for NULL, escaped text)."""
    return "".join("\t".join(map(_copy_field, row)) + "\n" for row in rows).encode()


_NULL = "\\N"


def measurement_copy_blocks(
    rows: Sequence[tuple[Any, ...]], index: dict[tuple[str, str], int], sha256: str, probe: str
) -> list[bytes]:
    """Measurement rows (MEASUREMENT_COLUMNS) as COPY text in MEASUREMENT_COPY_COLUMNS, one
    block per server of `index` (by its place there), each line without its first column,
    the server id, which only the store knows (`with_server_ids` puts it in).

    What `copy_text` would write, 2.4x faster: the column types are known, and ids, slugs,
    hostnames and protocols are pattern-validated, so only `error` needs escaping."""
    blocks: list[list[str]] = [[] for _ in index]
    batch = f"\t{sha256}\t{probe}\t"
    for (
        id_,
        started_at,
        provider,
        hostname,
        protocol,
        success,
        error,
        median,
        jitter,
        samples,
        loss,
        down_bytes,
        down_ms,
        down_bps,
        up_bytes,
        up_ms,
        up_bps,
    ) in rows:
        blocks[index[(provider, hostname)]].append(
            f"{batch}{id_}\t{started_at.isoformat()}\t{protocol}\t"
            f"{'t' if success else 'f'}\t{_NULL if error is None else error.translate(_ESCAPES)}\t"
            f"{_NULL if median is None else repr(median)}\t"
            f"{_NULL if jitter is None else repr(jitter)}\t"
            f"{_NULL if samples is None else '[' + ','.join(map(repr, samples)) + ']'}\t"
            f"{_NULL if loss is None else repr(loss)}\t"
            + (
                f"{down_bytes}\t{down_ms}\t{down_bps}\t"
                if down_bytes is not None
                else "\\N\t\\N\t\\N\t"
            )
            + (f"{up_bytes}\t{up_ms}\t{up_bps}\n" if up_bytes is not None else "\\N\t\\N\t\\N\n")
        )
    return ["".join(lines).encode() for lines in blocks]


def with_server_ids(blocks: Sequence[bytes], ids: Sequence[int]) -> bytes:
    """The COPY text of `measurement_copy_blocks`, each line led by its server's id.
    A raw newline only ever ends a line (COPY escapes those in values), so each block
    needs one replace, not a pass per line."""
    parts = []
    for block, server_id in zip(blocks, ids, strict=True):
        if block:
            lead = b"%d" % server_id
            parts.append(lead + block[:-1].replace(b"\n", b"\n" + lead) + b"\n")
    return b"".join(parts)
