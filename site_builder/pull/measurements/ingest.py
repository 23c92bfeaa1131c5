"""Turn verified, validated probe batches into rows: one transaction per batch."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slugify import slugify
from sqlalchemy import Connection, Engine, select, tuple_, update

from site_builder.db.bulk import insert_new
from site_builder.db.models import (
    VpnCity,
    VpnHeartbeat,
    VpnIngestedBatch,
    VpnMeasurement,
    VpnProvider,
    VpnServer,
    VpnServerProtocol,
    VpnStreamingCheck,
)
from site_builder.db.partitions import ensure_partitions
from site_builder.db.upsert import upsert
from site_builder.pull.measurements.batch import ParsedBatch
from site_builder.pull.measurements.records import Measurement, ServerRef
from site_builder.pull.measurements.rollups import hour_of, mark_dirty
from site_builder.pull.measurements.status import HEARTBEAT_GRACE, refresh_uptime

servers_t = VpnServer.__table__
cities_t = VpnCity.__table__


@dataclass(frozen=True)
class BatchResult:
    name: str
    status: str  # ingested | duplicate | rejected
    records: int = 0
    message: str = ""


def already_ingested(engine: Engine, sha256: str) -> bool:
    with engine.connect() as connection:
        table = VpnIngestedBatch.__table__
        return (
            connection.execute(select(table.c.sha256).where(table.c.sha256 == sha256)).first()
            is not None
        )


def _server_refs(batch: ParsedBatch) -> dict[tuple[str, str], tuple[ServerRef, datetime]]:
    """Each server the batch mentions, with its latest report and when that was."""
    refs: dict[tuple[str, str], tuple[ServerRef, datetime]] = {}
    records: list[tuple[ServerRef, datetime]] = [
        *((m.server, m.started_at) for m in batch.measurements),
        *((c.server, c.checked_at) for c in batch.streaming_checks),
        *((h.server, h.at) for h in batch.heartbeats),
    ]
    for ref, moment in records:
        key = (ref.provider, ref.hostname.lower())
        if key not in refs or refs[key][1] < moment:
            refs[key] = (ref, moment)
    return refs


def _register_servers(
    connection: Connection, batch: ParsedBatch, now: datetime
) -> dict[tuple[str, str], int]:
    refs = _server_refs(batch)
    providers = {}
    for ref, _ in refs.values():
        providers.setdefault(ref.provider, ref.provider_name or ref.provider)
    upsert(
        connection,
        VpnProvider.__table__,
        [{"slug": s, "name": n, "first_seen_at": now} for s, n in sorted(providers.items())],
        key=["slug"],
        update=(),
    )
    cities = {(ref.country, ref.city) for ref, _ in refs.values() if ref.city}
    upsert(
        connection,
        cities_t,
        [{"country_code": c, "name": n, "slug": slugify(n)} for c, n in sorted(cities)],
        key=["country_code", "slug"],
        update=(),
    )
    city_ids = {
        (row.country_code, row.slug): row.id
        for row in connection.execute(
            select(cities_t.c.id, cities_t.c.country_code, cities_t.c.slug)
        )
    }
    rows = [
        {
            "provider_slug": ref.provider,
            "hostname": hostname,
            "ip": str(ref.ip),
            "country_code": ref.country,
            "city_id": city_ids.get((ref.country, slugify(ref.city))) if ref.city else None,
            "first_seen_at": moment,
            "last_seen_at": moment,
        }
        for (_, hostname), (ref, moment) in sorted(refs.items())
    ]
    upsert(
        connection,
        servers_t,
        rows,
        key=["provider_slug", "hostname"],
        update=["ip", "country_code", "city_id", "last_seen_at"],
        keep_greatest=["last_seen_at"],
    )
    keys = list(refs)
    ids: dict[tuple[str, str], int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for row in connection.execute(
            select(servers_t.c.id, servers_t.c.provider_slug, servers_t.c.hostname).where(
                tuple_(servers_t.c.provider_slug, servers_t.c.hostname).in_(chunk)
            )
        ):
            ids[(row.provider_slug, row.hostname)] = row.id
    return ids


def _server_key(ref: ServerRef) -> tuple[str, str]:
    return (ref.provider, ref.hostname.lower())


def measurement_row(m: Measurement, server_id: int, sha256: str) -> dict[str, Any]:
    latency = m.latency
    samples = latency.samples_ms if latency else None
    if samples:
        median = statistics.median(samples)
        # plain float arithmetic: statistics.mean goes through Fractions, 20x slower here
        gaps = [abs(a - b) for a, b in itertools.pairwise(samples)]
        jitter = sum(gaps) / len(gaps) if gaps else 0.0
    else:
        median = latency.median_ms if latency else None
        jitter = latency.jitter_ms if latency else None
    return {
        "id": m.id,
        "started_at": m.started_at,
        "batch_sha256": sha256,
        "probe_id": m.probe,
        "server_id": server_id,
        "protocol": m.protocol,
        "connect_success": m.connect.success,
        "error": m.connect.error,
        "latency_ms": median,
        "jitter_ms": jitter,
        "latency_samples_ms": samples,
        "packet_loss": m.packet_loss,
        "download_bytes": m.download.bytes if m.download else None,
        "download_ms": m.download.duration_ms if m.download else None,
        "download_bps": m.download.bytes_per_s if m.download else None,
        "upload_bytes": m.upload.bytes if m.upload else None,
        "upload_ms": m.upload.duration_ms if m.upload else None,
        "upload_bps": m.upload.bytes_per_s if m.upload else None,
    }


def _derive(
    connection: Connection,
    batch: ParsedBatch,
    server_ids: dict[tuple[str, str], int],
    measurement_rows: list[dict[str, Any]],
    now: datetime,
) -> None:
    """Everything computed from the new rows, in the batch's own transaction."""
    mark_dirty(connection, {hour_of(r["started_at"]) for r in measurement_rows})
    if batch.heartbeats:
        latest: dict[int, datetime] = {}
        for beat in batch.heartbeats:
            server_id = server_ids[_server_key(beat.server)]
            latest[server_id] = max(latest.get(server_id, beat.at), beat.at)
        for server_id, moment in latest.items():
            connection.execute(
                update(servers_t)
                .where(
                    servers_t.c.id == server_id,
                    (servers_t.c.last_heartbeat_at.is_(None))
                    | (servers_t.c.last_heartbeat_at < moment),
                )
                .values(last_heartbeat_at=moment)
            )
        refresh_uptime(
            connection,
            {(server_ids[_server_key(h.server)], h.at.date()) for h in batch.heartbeats}
            | {
                (server_ids[_server_key(h.server)], (h.at + HEARTBEAT_GRACE).date())
                for h in batch.heartbeats
            },
            as_of=now,
        )


def store_batch(engine: Engine, batch: ParsedBatch, *, source: str, now: datetime) -> int:
    """Insert a parsed batch, all or nothing; returns the number of records."""
    with engine.begin() as connection:
        server_ids = _register_servers(connection, batch, now)
        sha = batch.sha256
        measurement_rows = [
            measurement_row(m, server_ids[_server_key(m.server)], sha) for m in batch.measurements
        ]
        ensure_partitions(
            connection, "vpn_measurements", [m.started_at for m in batch.measurements]
        )
        insert_new(connection, VpnMeasurement.__table__, measurement_rows, key=["id", "started_at"])
        upsert(
            connection,
            VpnServerProtocol.__table__,
            [
                {"server_id": s, "protocol": p}
                for s, p in sorted({(r["server_id"], r["protocol"]) for r in measurement_rows})
            ],
            key=["server_id", "protocol"],
            update=(),
        )
        ensure_partitions(
            connection, "vpn_streaming_checks", [c.checked_at for c in batch.streaming_checks]
        )
        insert_new(
            connection,
            VpnStreamingCheck.__table__,
            [
                {
                    "id": c.id,
                    "checked_at": c.checked_at,
                    "batch_sha256": sha,
                    "server_id": server_ids[_server_key(c.server)],
                    "platform": c.platform,
                    "region": c.region,
                    "status": c.status,
                }
                for c in batch.streaming_checks
            ],
            key=["id", "checked_at"],
        )
        ensure_partitions(connection, "vpn_heartbeats", [h.at for h in batch.heartbeats])
        insert_new(
            connection,
            VpnHeartbeat.__table__,
            [
                {
                    "server_id": server_ids[_server_key(h.server)],
                    "at": h.at,
                    "batch_sha256": sha,
                    "cpu_pct": h.cpu_pct,
                    "ram_pct": h.ram_pct,
                    "net_pct": h.net_pct,
                    "services": h.services,
                }
                for h in batch.heartbeats
            ],
            key=["server_id", "at"],
        )
        _derive(connection, batch, server_ids, measurement_rows, now)
        moments = [
            *(m.started_at for m in batch.measurements),
            *(c.checked_at for c in batch.streaming_checks),
            *(h.at for h in batch.heartbeats),
        ]
        connection.execute(
            VpnIngestedBatch.__table__.insert().values(
                sha256=sha,
                probe_id=batch.header.probe,
                source=source,
                ingested_at=now,
                measurements=len(batch.measurements),
                streaming_checks=len(batch.streaming_checks),
                heartbeats=len(batch.heartbeats),
                first_record_at=min(moments, default=None),
                last_record_at=max(moments, default=None),
            )
        )
    return batch.record_count
