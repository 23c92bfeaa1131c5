"""Store one batch's rows, all or nothing, in one transaction.

PostgreSQL: every table's rows are COPYed into temporary staging tables, then moved with
one INSERT ... SELECT each, which resolves (provider, hostname) to server ids with a join
and skips rows already present (a re-sent record changes nothing). SQLite: the same steps
with executemany, ids resolved in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Column, Connection, Engine, Table, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from site_builder.db.bulk import copy_new
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
from site_builder.pull.measurements.rollups import mark_dirty
from site_builder.pull.measurements.rows import (
    HEARTBEAT_COLUMNS,
    MEASUREMENT_COLUMNS,
    MEASUREMENT_COPY_COLUMNS,
    SERVER_COLUMNS,
    STREAMING_COLUMNS,
    BatchRows,
    copy_text,
    with_server_ids,
)
from site_builder.pull.measurements.status import HEARTBEAT_GRACE, refresh_uptime

servers_t = VpnServer.__table__
cities_t = VpnCity.__table__
batches_t = VpnIngestedBatch.__table__


@dataclass(frozen=True)
class BatchResult:
    name: str
    status: str  # ingested | duplicate | rejected | failed
    records: int = 0
    message: str = ""
    new_records: int = 0  # of `records`, those the store did not hold yet

    def describe(self) -> str:
        """What the batch added, e.g. 'ingested (0 new records, 120 already stored)'."""
        if self.status != "ingested":
            return self.message or self.status
        present = self.records - self.new_records
        return f"ingested ({self.new_records:,} new records, {present:,} already stored)"


def ingested_hashes(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(select(batches_t.c.sha256)).scalars())


def already_ingested(engine: Engine, sha256: str) -> bool:
    with engine.connect() as connection:
        return (
            connection.execute(
                select(batches_t.c.sha256).where(batches_t.c.sha256 == sha256)
            ).first()
            is not None
        )


def store_rows(engine: Engine, rows: BatchRows, *, source: str, now: datetime) -> int:
    """Insert a batch's rows, all or nothing; returns how many records were new (the others
    were stored already, from another batch)."""
    with engine.begin() as connection:
        new = store_part(connection, rows, now)
        record_batch(connection, rows, source=source, now=now)
    return new


def store_part(connection: Connection, rows: BatchRows, now: datetime) -> int:
    """Insert rows (a whole batch, or one part of a streamed one) in the caller's
    transaction; returns how many records were new."""
    for table in ("vpn_measurements", "vpn_streaming_checks", "vpn_heartbeats"):
        ensure_partitions(connection, table, rows.months)
    if connection.dialect.name == "postgresql":
        beats, new = _store_postgresql(connection, rows, now)
    else:
        beats, new = _store_sqlite(connection, rows, now)
    mark_dirty(connection, rows.hours)
    if beats:
        _heartbeats_seen(connection, beats, now)
    return new


def record_batch(connection: Connection, rows: BatchRows, *, source: str, now: datetime) -> None:
    """Note the batch as taken, with its counts and time span (of every part)."""
    connection.execute(
        batches_t.insert().values(
            sha256=rows.sha256,
            probe_id=rows.probe,
            agent_id=rows.agent,
            source=source,
            ingested_at=now,
            measurements=rows.counts["measurements"],
            streaming_checks=rows.counts["streaming_checks"],
            heartbeats=rows.counts["heartbeats"],
            first_record_at=rows.first_record_at,
            last_record_at=rows.last_record_at,
        )
    )


def _heartbeats_seen(
    connection: Connection, beats: list[tuple[int, datetime]], now: datetime
) -> None:
    """Move each server's last heartbeat forward and recompute the days the beats touch."""
    latest: dict[int, datetime] = {}
    for server_id, at in beats:
        latest[server_id] = max(latest.get(server_id, at), at)
    for server_id, moment in latest.items():
        connection.execute(
            update(servers_t)
            .where(
                servers_t.c.id == server_id,
                servers_t.c.last_heartbeat_at.is_(None) | (servers_t.c.last_heartbeat_at < moment),
            )
            .values(last_heartbeat_at=moment)
        )
    touched: set[tuple[int, date]] = set()
    for server_id, at in beats:
        touched |= {(server_id, at.date()), (server_id, (at + HEARTBEAT_GRACE).date())}
    refresh_uptime(connection, touched, as_of=now)


def _defaults(table: Table) -> dict[str, Any]:
    """The model's Python-side scalar defaults, which plain SQL does not apply."""
    return {
        column.name: column.default.arg  # type: ignore[union-attr]
        for column in table.columns
        if column.default is not None and column.default.is_scalar
    }


# ------------------------------------------------------------------------------------- SQLite


def _insert_missing(
    connection: Connection, table: Table, rows: list[dict[str, Any]], key: list[str]
) -> int:
    """INSERT ... ON CONFLICT DO NOTHING; returns how many rows were inserted."""
    if not rows:
        return 0
    statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=key)
    return max(connection.execute(statement, rows).rowcount, 0)


def _store_sqlite(
    connection: Connection, rows: BatchRows, now: datetime
) -> tuple[list[tuple[int, datetime]], int]:
    measured = cast(list[tuple[Any, ...]], rows.measurements)  # as_copy=False: tuples
    assert not isinstance(rows.streaming_checks, bytes)
    assert not isinstance(rows.heartbeats, bytes)
    ids = _register_servers(connection, rows.servers, now)
    measurements = [dict(zip(MEASUREMENT_COLUMNS, row, strict=True)) for row in measured]
    for row in measurements:
        row["server_id"] = ids[(row.pop("provider_slug"), row.pop("hostname"))]
        row["batch_sha256"], row["probe_id"] = rows.sha256, rows.probe
    new = _insert_missing(connection, VpnMeasurement.__table__, measurements, ["id", "started_at"])
    upsert(
        connection,
        VpnServerProtocol.__table__,
        [
            {"server_id": s, "protocol": p}
            for s, p in sorted({(r["server_id"], r["protocol"]) for r in measurements})
        ],
        key=["server_id", "protocol"],
        update=(),
    )
    checks = [dict(zip(STREAMING_COLUMNS, row, strict=True)) for row in rows.streaming_checks]
    for row in checks:
        row["server_id"] = ids[(row.pop("provider_slug"), row.pop("hostname"))]
        row["batch_sha256"] = rows.sha256
    new += _insert_missing(connection, VpnStreamingCheck.__table__, checks, ["id", "checked_at"])
    beats = [dict(zip(HEARTBEAT_COLUMNS, row, strict=True)) for row in rows.heartbeats]
    for row in beats:
        row["server_id"] = ids[(row.pop("provider_slug"), row.pop("hostname"))]
        row["batch_sha256"] = rows.sha256
    new += _insert_missing(connection, VpnHeartbeat.__table__, beats, ["server_id", "at"])
    return [(row["server_id"], row["at"]) for row in beats], new


def _register_servers(
    connection: Connection, servers: list[tuple[Any, ...]], now: datetime
) -> dict[tuple[str, str], int]:
    reports = [dict(zip(SERVER_COLUMNS, row, strict=True)) for row in servers]
    providers: dict[str, str] = {}
    for report in reports:
        providers.setdefault(report["provider_slug"], report["provider_name"])
    upsert(
        connection,
        VpnProvider.__table__,
        [{"slug": s, "name": n, "first_seen_at": now} for s, n in sorted(providers.items())],
        key=["slug"],
        update=(),
    )
    upsert(
        connection,
        cities_t,
        [
            {"country_code": country, "name": name, "slug": slug}
            for country, name, slug in sorted(
                {(r["country_code"], r["city"], r["city_slug"]) for r in reports if r["city"]}
            )
        ],
        key=["country_code", "slug"],
        update=(),
    )
    city_ids = {
        (row.country_code, row.slug): row.id
        for row in connection.execute(
            select(cities_t.c.id, cities_t.c.country_code, cities_t.c.slug)
        )
    }
    upsert(
        connection,
        servers_t,
        [
            {
                "provider_slug": r["provider_slug"],
                "hostname": r["hostname"],
                "ip": r["ip"],
                "country_code": r["country_code"],
                "city_id": city_ids.get((r["country_code"], r["city_slug"])),
                "first_seen_at": r["seen_at"],
                "last_seen_at": r["seen_at"],
            }
            for r in reports
        ],
        key=["provider_slug", "hostname"],
        update=["ip", "country_code", "city_id", "last_seen_at"],
        keep_greatest=["last_seen_at"],
    )
    keys = [(r["provider_slug"], r["hostname"]) for r in reports]
    ids: dict[tuple[str, str], int] = {}
    for start in range(0, len(keys), 500):
        for row in connection.execute(
            select(servers_t.c.id, servers_t.c.provider_slug, servers_t.c.hostname).where(
                tuple_(servers_t.c.provider_slug, servers_t.c.hostname).in_(
                    keys[start : start + 500]
                )
            )
        ):
            ids[(row.provider_slug, row.hostname)] = row.id
    return ids


# --------------------------------------------------------------------------------- PostgreSQL


def _server_ids(connection: Connection, servers: list[tuple[Any, ...]]) -> list[int]:
    """The store's id of each of the batch's servers, in the batch's order."""
    found = {
        (row.provider_slug, row.hostname): row.id
        for row in connection.execute(
            text(f"SELECT x.provider_slug, x.hostname, s.id FROM staging_servers x {_SERVER_JOIN}")
        )
    }
    return [found[(server[0], server[2])] for server in servers]


_STAGING_TYPES = {
    "provider_slug": "text",
    "provider_name": "text",
    "hostname": "text",
    "city": "text",
    "city_slug": "text",
    "seen_at": "timestamptz",
}
_SERVER_JOIN = "JOIN vpn_servers s ON s.provider_slug = x.provider_slug AND s.hostname = x.hostname"


def _staging_columns(table: Table, columns: Sequence[str]) -> str:
    """Column definitions of a staging table: the target's types, text for server names."""
    parts = []
    for name in columns:
        column: Column[Any] | None = table.columns.get(name)
        sql_type = (
            _STAGING_TYPES[name]
            if column is None or name in ("provider_slug", "hostname")
            else column.type.compile(dialect=postgresql.dialect())
        )
        parts.append(f'"{name}" {sql_type}')
    return ", ".join(parts)


def _copy(cursor: Any, staging: str, definition: str, columns: Sequence[str], data: bytes) -> None:
    cursor.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{staging}" ({definition}) ON COMMIT DROP')
    cursor.execute(f'TRUNCATE "{staging}"')
    if data:
        names = ", ".join(f'"{c}"' for c in columns)
        with cursor.copy(f'COPY "{staging}" ({names}) FROM STDIN') as copy:
            copy.write(data)


def _store_postgresql(
    connection: Connection, rows: BatchRows, now: datetime
) -> tuple[list[tuple[int, datetime]], int]:
    assert isinstance(rows.streaming_checks, bytes)
    assert isinstance(rows.heartbeats, bytes)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        _copy(
            cursor,
            "staging_servers",
            _staging_columns(servers_t, SERVER_COLUMNS),
            SERVER_COLUMNS,
            copy_text(rows.servers),
        )
        _copy(
            cursor,
            "staging_streaming_checks",
            _staging_columns(VpnStreamingCheck.__table__, STREAMING_COLUMNS),
            STREAMING_COLUMNS,
            rows.streaming_checks,
        )
        _copy(
            cursor,
            "staging_heartbeats",
            _staging_columns(VpnHeartbeat.__table__, HEARTBEAT_COLUMNS),
            HEARTBEAT_COLUMNS,
            rows.heartbeats,
        )
    finally:
        cursor.close()
    batch = {"sha": rows.sha256, "probe": rows.probe, "now": now}
    server_defaults = _defaults(servers_t)
    default_names = "".join(f", {name}" for name in server_defaults)
    default_values = "".join(f", :default_{name}" for name in server_defaults)
    checked = [c for c in STREAMING_COLUMNS if c not in ("provider_slug", "hostname")]
    beat = [c for c in HEARTBEAT_COLUMNS if c not in ("provider_slug", "hostname")]
    statements: list[tuple[str, dict[str, Any]]] = [
        (
            "INSERT INTO vpn_providers (slug, name, website, first_seen_at)"
            " SELECT DISTINCT ON (provider_slug) provider_slug, provider_name, '', :now"
            " FROM staging_servers ORDER BY provider_slug ON CONFLICT (slug) DO NOTHING",
            batch,
        ),
        (
            "INSERT INTO vpn_cities (country_code, name, slug)"
            " SELECT DISTINCT ON (country_code, city_slug) country_code, city, city_slug"
            " FROM staging_servers WHERE city IS NOT NULL ORDER BY country_code, city_slug, city"
            " ON CONFLICT (country_code, slug) DO NOTHING",
            {},
        ),
        (
            "INSERT INTO vpn_servers (provider_slug, hostname, ip, country_code, city_id,"
            f" first_seen_at, last_seen_at{default_names})"
            " SELECT x.provider_slug, x.hostname, x.ip, x.country_code, c.id, x.seen_at,"
            f" x.seen_at{default_values} FROM staging_servers x LEFT JOIN vpn_cities c"
            " ON c.country_code = x.country_code AND c.slug = x.city_slug"
            " ON CONFLICT (provider_slug, hostname) DO UPDATE SET ip = excluded.ip,"
            " country_code = excluded.country_code, city_id = excluded.city_id,"
            " last_seen_at = greatest(vpn_servers.last_seen_at, excluded.last_seen_at)",
            {f"default_{name}": value for name, value in server_defaults.items()},
        ),
        (
            f"INSERT INTO vpn_streaming_checks (batch_sha256, server_id, {', '.join(checked)})"
            f" SELECT :sha, s.id, {', '.join(f'x.{c}' for c in checked)}"
            f" FROM staging_streaming_checks x {_SERVER_JOIN}"
            " ON CONFLICT (id, checked_at) DO NOTHING",
            batch,
        ),
        (
            f"INSERT INTO vpn_heartbeats (batch_sha256, server_id, {', '.join(beat)})"
            f" SELECT :sha, s.id, {', '.join(f'x.{c}' for c in beat)}"
            f" FROM staging_heartbeats x {_SERVER_JOIN}"
            " ON CONFLICT (server_id, at) DO NOTHING",
            batch,
        ),
    ]
    new = 0
    for number, (statement, parameters) in enumerate(statements):
        result = connection.execute(text(statement), parameters)
        if number >= 3:  # the streaming checks and heartbeats
            new += max(result.rowcount, 0)
    ids = _server_ids(connection, rows.servers)
    straight = copy_new(
        connection,
        "vpn_measurements",
        MEASUREMENT_COPY_COLUMNS,
        with_server_ids(cast(list[bytes], rows.measurements), ids),  # as_copy=True: blocks
        key=["id", "started_at"],
    )
    if straight:
        new += rows.counts["measurements"]
    else:  # some were stored already: the new ones are those now carrying this batch's hash
        new += connection.execute(
            text(
                "SELECT count(*) FROM staging_vpn_measurements x JOIN vpn_measurements m"
                " ON m.id = x.id AND m.started_at = x.started_at AND m.batch_sha256 = :sha"
            ),
            {"sha": rows.sha256},
        ).scalar_one()
    pairs = sorted((ids[n], protocol) for n, protocol in rows.server_protocols)
    connection.execute(
        text(
            "INSERT INTO vpn_server_protocols (server_id, protocol)"
            " SELECT * FROM unnest(CAST(:ids AS integer[]), CAST(:protocols AS text[]))"
            " ON CONFLICT (server_id, protocol) DO NOTHING"
        ),
        {"ids": [p[0] for p in pairs], "protocols": [p[1] for p in pairs]},
    )
    beats = [
        (row.id, row.at.astimezone(UTC))
        for row in connection.execute(
            text(f"SELECT s.id, x.at FROM staging_heartbeats x {_SERVER_JOIN}")
        )
    ]
    return beats, new
